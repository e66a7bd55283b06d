drop table alert_last_quotes;
drop table notification_attempts;
drop table notifications;
drop table alert_events;
drop table alert_rules;
