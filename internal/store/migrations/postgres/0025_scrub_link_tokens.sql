-- PostgreSQL port of ../sqlite/0025_scrub_link_tokens.sql: one-tap link tokens stored in
-- full in deliveries are replaced by the slot filled when a message is sent.
UPDATE deliveries SET
    body  = replace(body,  url, substr(url, 1, strpos(url, '/a/') + 2) || '{one-tap-link}'),
    title = replace(title, url, substr(url, 1, strpos(url, '/a/') + 2) || '{one-tap-link}'),
    url   = substr(url, 1, strpos(url, '/a/') + 2) || '{one-tap-link}'
WHERE strpos(url, '/a/') > 0 AND url NOT LIKE '%{one-tap-link}';
