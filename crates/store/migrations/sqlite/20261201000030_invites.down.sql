drop table invites;
