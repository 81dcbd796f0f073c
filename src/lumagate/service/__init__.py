"""The service layer: what the dialects call. Auth, create/extend/read, links, estimates."""
