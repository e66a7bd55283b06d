alter table alert_rules drop column set_aside_reason;
alter table alert_rules drop column set_aside_at;
