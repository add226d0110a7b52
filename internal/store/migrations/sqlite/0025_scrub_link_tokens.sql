-- One-tap links were stored in full in the messages of deliveries, although ack_links
-- keeps only their hashes: whoever read this table could acknowledge (or answer a
-- safety poll) as anyone. Messages now keep a slot that is filled when they are sent
-- (escalation/links.go); put the slot in place of every stored token. A delivery still
-- queued then gets a fresh link when it is sent; a sent one keeps no usable link.
UPDATE deliveries SET
    body  = replace(body,  url, substr(url, 1, instr(url, '/a/') + 2) || '{one-tap-link}'),
    title = replace(title, url, substr(url, 1, instr(url, '/a/') + 2) || '{one-tap-link}'),
    url   = substr(url, 1, instr(url, '/a/') + 2) || '{one-tap-link}'
WHERE instr(url, '/a/') > 0 AND url NOT LIKE '%{one-tap-link}';
