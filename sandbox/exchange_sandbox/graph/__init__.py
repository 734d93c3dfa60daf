"""Microsoft Graph front of the sandbox Exchange server (a test double, never a production option).

``GraphApp`` answers Graph v1.0 mail/calendar requests and the Entra ID token endpoints over
the shared :class:`~exchange_sandbox.store.MailStore`; ``mount.mount_graph`` puts it in the
sandbox's HTTP server and ``mount.serve_graph_tls`` / ``start_graph_sandbox`` serve it over
HTTPS (msal needs an https authority) with a throw-away CA the client trusts. Its settings are
the ``[graph]`` table of the sandbox configuration (:class:`~exchange_sandbox.config.GraphConfig`).
"""

from exchange_sandbox.config import AppCertificate, AppRegistration, GraphConfig
from exchange_sandbox.graph.app import GraphApp
from exchange_sandbox.graph.ids import user_object_id
from exchange_sandbox.graph.server import GraphSandbox, make_tls_files, start_graph_sandbox

__all__ = [
    "AppCertificate",
    "AppRegistration",
    "GraphApp",
    "GraphConfig",
    "GraphSandbox",
    "make_tls_files",
    "start_graph_sandbox",
    "user_object_id",
]
