"""Mailbox store of the sandbox Exchange server (a test double), shared by its EWS and Graph fronts.

Nothing here knows SOAP or JSON: the protocol front-ends translate their requests into
calls on :class:`MailStore` and render the immutable :class:`Item` values it returns.

Public API (stable; the EWS and Graph fronts build on it, importing from this package)
-------------------------------------------------------------------------------------
Value types (frozen dataclasses, datetimes always timezone-aware UTC):

- ``Address(email, name="")``
- ``Flag(status="NotFlagged"|"Flagged"|"Complete", start=None, due=None, complete=None)``
- ``PropertyKey(property_type, property_set_id=None, distinguished_set_id=None,
  property_name=None, property_id=None, property_tag=None)``; ``key.canonical`` is a stable
  string used as dictionary key; values of extended properties are strings (or tuples of
  strings for array types) in the EWS/Graph string notation.
- ``Attendee(address, required=True, response="Unknown", response_time=None)``
- ``CalendarFields(start, end, organizer, attendees=(), free_busy="Busy", location="",
  uid="", is_all_day=False, my_response="", sequence=0, is_cancelled=False,
  intended_free_busy="", request_type="", start_zone="", end_zone="", reply_time=None,
  response_requested=True, meeting_request_sent=False, previous_start=None,
  previous_end=None, reminder_set=True, reminder_minutes=15)``: the calendar part of an
  appointment, meeting or meeting message.
- ``Item``: id, change_key, mailbox, folder, item_class, mime, headers, subject, sender,
  from_, to, cc, bcc, message_id, in_reply_to, references, conversation_id (32 hex digits),
  conversation_index (bytes), date_received, date_sent, date_created, last_modified,
  is_read, is_draft, flag, categories, extended (canonical key -> (PropertyKey, value)),
  calendar (CalendarFields | None), body, body_type ("Text"|"HTML"), importance.
- ``read_property(item, key)`` / ``write_property(item, key, value_or_None)``: extended
  (MAPI) properties. Well-known ones are views of item fields, as in Exchange: PidTagFlagStatus
  (0x1090), PidTagFlagCompleteTime (0x1091), PidLidTaskStartDate/DueDate (Task set, 0x8104 /
  0x8105) map to ``flag``; PidTagMessageFlags (0x0E07) to is_read/is_draft; Keywords
  (PublicStrings) to categories; PidTagTransportMessageHeaders (0x007D), the InternetHeaders
  set, PidTagConversationIndex (0x0071) and PidTagInternetMessageId (0x1035) are read-only.
  Front-ends go through these two functions, never ``item.extended`` directly.
- ``Change(seq, mailbox, folder, item_id, kind, is_read)`` with kind one of
  ``"create" | "update" | "read_flag" | "delete"``; ``ChangePage(changes, last_seq, more)``.
- ``FolderInfo(id, mailbox, name, display_name, parent_name, total, unread, child_count,
  folder_class="", user_made=False)``.
- ``RespondsTo(item_id, message_id, verb)``: on a reply or forward (``NewItem`` and the
  draft ``Item``, field ``responds_to``), the original it answers and the verb (102, 103,
  104) its submission leaves on it (module ``verbs``).

``MailStore(state_dir=None, clock=None)``: SQLite file ``sandbox.sqlite3`` in ``state_dir``
(survives restarts and client crashes) or an in-memory database; ``clock`` (default: the
wall clock, UTC) times the submission queue. Every method is thread-safe.

- mailboxes: ``ensure_mailbox(address, display_name="")``, ``has_mailbox(address)``,
  ``mailbox_name(address)``, ``mailboxes()``; addresses are case-insensitive.
- folders (distinguished names ``root``, ``msgfolderroot``, ``inbox``, ``sentitems``,
  ``calendar``, ``drafts``, ``deleteditems``, ``outbox``, and the store names of folders users
  made): ``folder(address, name)``, ``folder_by_id(folder_id)``, ``child_folders(address,
  name)``, ``create_folder(address, parent, display_name, folder_class="")`` (FolderExists for
  a sibling of that name in any case), ``user_folders(address)``, ``holds_items(address,
  name)``.
- items: ``create(address, folder, draft: NewItem) -> Item``, ``get(item_id)``,
  ``items(address, folder)``, ``update(item_id, mutate, expected_change_key=None)``
  (``mutate`` maps the old Item to the new one; the store bumps change key and
  last-modified and logs an update or read-flag change), ``move(item_id, folder)`` (new id,
  as in Exchange), ``delete(item_id)``, ``calendar_between(address, start, end)``;
  ``find_message(address, message_id)`` (a received one first),
  ``compose(address, folder, draft)`` (the Item ``create`` would store, unstored; a
  ``NewItem.thread_index`` puts it in that conversation when no MIME gives one),
  ``add_copy(item, folder)`` (store an item value with a new id), ``atomic()`` (one
  transaction around several calls).
- transport: ``deliver(address, mime, received=None)`` (as Exchange transport does into
  the Inbox); ``submit(address, draft: NewItem, save_copy=True, copy_headers="kept",
  on_saved=None) -> Submission`` (MIME composed when missing, Message-ID/Date/From added
  when missing, the Date by transport's clock; a reply or forward marks its original with
  the last verb at once, ``mark_responded``; after the mailbox's submission delay the Sent
  Items copy and delivery without Bcc to every recipient that is a sandbox mailbox, see
  ``submission`` and ``copies``); ``send(...)`` (``submit``, answering the Sent Items copy when it exists on
  return); ``in_transit(address=None)``, ``run_due_submissions(everything=False)``, and
  ``submissions`` (the queue: ``configure``, ``change``, ``settings``, ``clock``,
  ``run_due``, ``counts``, ``start``/``stop`` of its worker); ``send_meeting(item_id,
  save_copy=True)`` (a meeting request through transport; on delivery the attendee's Inbox
  gets it and the calendar a tentative item), ``on_delivered(item)`` (transport's hook: the
  calendar attendant processes a delivered meeting message).
- meetings (module ``meetings``): ``send_requests``, ``after_organizer_change`` (updates),
  ``cancel``, ``respond`` (Accept, Tentative, Decline), ``remove_without_answer``,
  ``calendar_item(store, mailbox, uid)``, ``is_out_of_date``; ``MeetingError.kind`` says why
  an action is refused (``organizer``, ``not_organizer``, ``cancelled``, ``out_of_date``,
  ``not_meeting``).
- errors: ``StoreError`` and its subclasses ``MailboxNotFound``, ``FolderNotFound``,
  ``FolderExists``, ``ItemNotFound``, ``ChangeKeyMismatch``, ``ReadOnlyProperty``.
- change log: ``latest_seq()``, ``changes_since(address, folders, after_seq, limit=None)``.
  The sequence number is global and monotonically increasing, hence also per folder.

Conversation threading
----------------------
Exchange computes PidTagConversationId ([MS-OXOMSG] 2.2.1.2): when the conversation index
(the ``Thread-Index`` header, base64) is at least 22 bytes long and starts with 0x01, the
conversation id is its GUID part (bytes 6..21). Internet mail without ``Thread-Index`` gets a
conversation index from Exchange transport: it joins the conversation of an earlier message
in the same mailbox whose Message-ID appears in ``In-Reply-To``/``References``, else a new
conversation index with a fresh GUID is made. The sandbox follows these rules; it does not
implement the MD5-of-topic fallback that MAPI clients use for items without index tracking.
"""

from exchange_sandbox.store import meetings, verbs
from exchange_sandbox.store.ids import conversation_guid_from_index, new_conversation_index
from exchange_sandbox.store.mailstore import MailStore
from exchange_sandbox.store.meetings import MeetingError
from exchange_sandbox.store.mime import parse_mime
from exchange_sandbox.store.model import (
    DISTINGUISHED_FOLDERS,
    DISTINGUISHED_PROPERTY_SETS,
    ITEM_FOLDERS,
    Address,
    Attendee,
    CalendarFields,
    Change,
    ChangeKeyMismatch,
    ChangeKind,
    ChangePage,
    ExtendedValue,
    Flag,
    FlagStatus,
    FolderExists,
    FolderInfo,
    FolderNotFound,
    Item,
    ItemNotFound,
    MailboxNotFound,
    NewItem,
    PropertyKey,
    ReadOnlyProperty,
    RespondsTo,
    StoreError,
    utcnow,
)
from exchange_sandbox.store.properties import read_property, write_property
from exchange_sandbox.store.submission import Submission, SubmissionSettings

__all__ = [
    "DISTINGUISHED_FOLDERS",
    "DISTINGUISHED_PROPERTY_SETS",
    "ITEM_FOLDERS",
    "Address",
    "Attendee",
    "CalendarFields",
    "Change",
    "ChangeKeyMismatch",
    "ChangeKind",
    "ChangePage",
    "ExtendedValue",
    "Flag",
    "FlagStatus",
    "FolderExists",
    "FolderInfo",
    "FolderNotFound",
    "Item",
    "ItemNotFound",
    "MailStore",
    "MailboxNotFound",
    "MeetingError",
    "NewItem",
    "PropertyKey",
    "ReadOnlyProperty",
    "RespondsTo",
    "StoreError",
    "Submission",
    "SubmissionSettings",
    "conversation_guid_from_index",
    "meetings",
    "new_conversation_index",
    "parse_mime",
    "read_property",
    "utcnow",
    "verbs",
    "write_property",
]
