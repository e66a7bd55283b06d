drop table channels;
drop table watchlist;
drop table auth_tokens;
drop table users;
