drop table tracked_symbols;
