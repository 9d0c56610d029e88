-- Dashboard passwords: the Argon2id hash (PHC form) of each user who may
-- sign in with a user name. The name they sign in with is their user name,
-- unique across every organisation without regard to letter case
-- (login_key), so a sign-in names one user.
CREATE TABLE ac_passwords (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES ac_users (id),
    login_key TEXT NOT NULL UNIQUE,
    phc TEXT NOT NULL,
    set_at INTEGER NOT NULL
);
