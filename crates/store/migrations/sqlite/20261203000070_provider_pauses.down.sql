drop table provider_pauses;
