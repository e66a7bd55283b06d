drop table instances;
