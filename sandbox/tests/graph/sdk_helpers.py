"""Microsoft's Python SDK (msgraph-sdk) pointed at a sandbox: the client as an application builds it."""

from __future__ import annotations

import ssl
import warnings
from datetime import datetime

import httpx
import requests

with warnings.catch_warnings():
    # The SDK's generated request builders warn, when imported, about their own deprecated
    # configuration classes; that is the SDK's business, not this test's.
    warnings.simplefilter("ignore", DeprecationWarning)
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph_core import GraphClientFactory

from exchange_sandbox import GraphSandbox, load_config


def sdk_client(tls: GraphSandbox) -> GraphServiceClient:
    """The SDK as an application would build it, pointed at the sandbox, TLS verified."""
    graph = load_config().graph
    [registration] = graph.apps
    ca = str(tls.ca_file)
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace the sandbox CA
    credential = ClientSecretCredential(
        graph.tenant_id,
        registration.client_id,
        registration.client_secret or "",
        authority=tls.base_url,
        disable_instance_discovery=True,
        transport=RequestsTransport(session=session, session_owner=False, connection_verify=ca),
    )
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=[tls.host]
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca), trust_env=False)
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = tls.graph_url
    return GraphServiceClient(request_adapter=adapter)


def dttz(moment: datetime) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=moment.strftime("%Y-%m-%dT%H:%M:%S"), time_zone="UTC")
