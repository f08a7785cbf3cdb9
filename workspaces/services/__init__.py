"""Every write about organizations, workspaces and people, one module per section:
`organizations`, `billing`, `invitations`, `join_requests`, `members`."""
