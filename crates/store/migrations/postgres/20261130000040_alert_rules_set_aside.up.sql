-- A rule the alert engine cannot evaluate (a value out of range, stored before the rule API
-- bounded it; an evaluation that failed) is set aside: it keeps its status, is no longer
-- evaluated, and shows its owner why until the owner changes or deletes it. Both columns are
-- null for every other rule.
alter table alert_rules
    add column set_aside_at timestamptz,
    add column set_aside_reason text;
