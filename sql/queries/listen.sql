-- Listen: the connection receives the notifications of a channel (the
-- outbox's, '<schema>.outbox', which outbox_notify.sql and the outbox's
-- insert trigger notify) until it closes. LISTEN takes no parameter: Listen
-- appends the channel, quoted as an identifier.
LISTEN
