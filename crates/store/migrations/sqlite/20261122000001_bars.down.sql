-- Reverts 20261122000001_bars: the stored bars and fetch records go with their tables.
drop table symbol_fetches;
drop table bars;
