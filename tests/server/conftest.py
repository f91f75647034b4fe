from support.api import api_settings, client, live_server, mailbox  # noqa: F401
