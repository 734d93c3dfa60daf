"""A sandbox Exchange server (a test double, never a production option) speaking EWS and Graph.

The names below are the package's public interface for programs that start it
in-process (the product's tests, benchmarks and demo); everything else may move.
"""

from exchange_sandbox.config import MailboxConfig, SandboxConfig, load_config
from exchange_sandbox.faults import Faults, parse_faults
from exchange_sandbox.graph.mount import serve_graph_tls
from exchange_sandbox.graph.server import GraphSandbox
from exchange_sandbox.server import SandboxHandle, start_sandbox
from exchange_sandbox.store import ITEM_FOLDERS, Item, MailStore

__all__ = [
    "ITEM_FOLDERS",
    "Faults",
    "GraphSandbox",
    "Item",
    "MailStore",
    "MailboxConfig",
    "SandboxConfig",
    "SandboxHandle",
    "load_config",
    "parse_faults",
    "serve_graph_tls",
    "start_sandbox",
]
