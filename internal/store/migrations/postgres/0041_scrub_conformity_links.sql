-- PostgreSQL port of ../sqlite/0041_scrub_conformity_links.sql.
-- Links still open keep working: each becomes a request of its own.
INSERT INTO conformity_requests (id, incident_id, requester_id, requester_name, language, created_at, expires_at)
SELECT 'legacy-' || hash, incident_id, requester_id, requester_name, language, created_at, expires_at
FROM conformity_links WHERE used_at IS NULL AND request_id IS NULL;
UPDATE conformity_links SET request_id = 'legacy-' || hash WHERE used_at IS NULL AND request_id IS NULL;

-- The stored copies lose their token (the person's own copy still works: its hash is kept).
UPDATE incident_messages SET
    text = replace(text, url, substr(url, 1, strpos(url, '/c/') + 2) || '{conformity-link-not-yet-minted}'),
    url  = substr(url, 1, strpos(url, '/c/') + 2) || '{conformity-link-not-yet-minted}'
WHERE kind = 'conformity' AND strpos(url, '/c/') > 0 AND url NOT LIKE '%{conformity-link-not-yet-minted}';
UPDATE deliveries SET
    body  = replace(body,  url, substr(url, 1, strpos(url, '/c/') + 2) || '{conformity-link-not-yet-minted}'),
    title = replace(title, url, substr(url, 1, strpos(url, '/c/') + 2) || '{conformity-link-not-yet-minted}'),
    url   = substr(url, 1, strpos(url, '/c/') + 2) || '{conformity-link-not-yet-minted}'
WHERE strpos(url, '/c/') > 0 AND url NOT LIKE '%{conformity-link-not-yet-minted}';
