-- 033 The API's data protection key ring (ASP.NET Core), shared by every API instance on this database: a cookie one
-- instance signs (the admin's Orleans dashboard session) is then valid on all of them, behind any balancer, and
-- survives a restart. One row per key, as the key manager writes it (an XML element); rows are never changed, only
-- added (a key's revocation is a new element). The XML holds key material: whoever can read this table can forge
-- sessions, as whoever can read api_keys can list its owners; keep the database private.
CREATE TABLE IF NOT EXISTS data_protection_keys (
    friendly_name TEXT PRIMARY KEY,
    xml           TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
