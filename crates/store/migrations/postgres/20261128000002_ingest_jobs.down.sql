drop table ingest_jobs;
