drop table provider_usage;
