"""Microsoft Graph front of the sandbox Exchange server (a test double, never a production option).

``GraphApp`` answers Graph v1.0 mail/calendar requests and the Entra ID token endpoints over
the shared :class:`~exchange_sandbox.store.MailStore`; ``start_graph_sandbox`` serves
it over HTTPS (msal needs an https authority) with a throw-away CA the client trusts.
"""

from exchange_sandbox.graph.app import GraphApp
from exchange_sandbox.graph.config import (
    AppCertificate,
    AppRegistration,
    GraphConfig,
    load_graph_config,
    parse_graph_config,
)
from exchange_sandbox.graph.ids import user_object_id
from exchange_sandbox.graph.server import GraphSandbox, make_tls_files, start_graph_sandbox

__all__ = [
    "AppCertificate",
    "AppRegistration",
    "GraphApp",
    "GraphConfig",
    "GraphSandbox",
    "load_graph_config",
    "make_tls_files",
    "parse_graph_config",
    "start_graph_sandbox",
    "user_object_id",
]
