alter table alert_rules
    drop column set_aside_reason,
    drop column set_aside_at;
