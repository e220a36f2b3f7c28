"""Reaching people: subscriptions told of alert changes, escalation along a tenant's chain.

An alert nobody is watching must still reach someone. Two ways a message comes to be owed:

* a user's subscription (`subscriptions`: alert types, subjects, an email address or a signed
  webhook) matches a change of an alert worth telling (opened, escalated, a worse level,
  cleared, cancelled) in the event log;
* an alert of a type the tenant escalates (`tenants[].escalation`) stays active, unacknowledged,
  `after_min` minutes: the first person of the chain is told, after as many more the next.

Each owed message is one row of `notification_deliveries`, unique by its `dedupe_key`, so a
notifier restarted, or two running (one per ingest worker), owes it once; rows are claimed
before sending, so it is sent once (at least once should a process die mid-send).

Pure rules (`rules`, `targets`, `messages`) are apart from I/O: the database (`store`), SMTP and
HTTP (`channels`), and the loop that runs them in the ingest process (`notifier`).
"""
