-- The sites each person of a drill was at when it started (docs/sites.md): the report
-- gives figures per site, as it does per team. A JSON array of site ids.
ALTER TABLE drill_run_targets ADD COLUMN sites TEXT NOT NULL DEFAULT '[]';
