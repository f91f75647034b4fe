from support.api import api_settings, client, mailbox  # noqa: F401
