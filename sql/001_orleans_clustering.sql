-- 001 Orleans clustering (membership) for Microsoft.Orleans.Clustering.AdoNet, Invariant "Npgsql".
-- The provider knows only the table OrleansQuery: it reads the query text stored under each key and runs
-- it with @Name parameters. The tables and functions behind those texts are this project's own.
-- Idempotent: every statement can run again on an existing database.

-- The query catalogue shared by clustering (001), grain persistence (002) and reminders (003).
-- Unquoted names fold to lower case, which is also how the providers' unquoted SELECT reaches it.
CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  VARCHAR(64) PRIMARY KEY,
    QueryText TEXT NOT NULL
);

-- One row per cluster (DeploymentId = ClusterOptions.ClusterId). Every membership write bumps `version`
-- from the value the writer last read, so two silos changing the table at once cannot both succeed.
CREATE TABLE IF NOT EXISTS orleans_membership_version (
    deployment_id TEXT PRIMARY KEY,
    version       INTEGER NOT NULL DEFAULT 0,
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per silo incarnation (address, port, generation). status: 3 = Active, 6 = Dead, etc.
-- suspect_times is Orleans' own "silo,time|silo,time" text.
CREATE TABLE IF NOT EXISTS orleans_membership (
    deployment_id   TEXT NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    port            INTEGER NOT NULL,
    generation      INTEGER NOT NULL,
    silo_name       TEXT NOT NULL,
    host_name       TEXT NOT NULL,
    status          INTEGER NOT NULL,
    proxy_port      INTEGER NOT NULL DEFAULT 0,
    suspect_times   TEXT,
    start_time      TIMESTAMPTZ NOT NULL,
    i_am_alive_time TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Adds a silo row and bumps the version, both or neither. Answers 1 on success, 0 when the version moved
-- on since the caller read it or the silo row already exists.
CREATE OR REPLACE FUNCTION orleans_insert_membership(
    p_deployment_id TEXT, p_address TEXT, p_port INTEGER, p_generation INTEGER, p_silo_name TEXT,
    p_host_name TEXT, p_status INTEGER, p_proxy_port INTEGER, p_start_time TIMESTAMPTZ,
    p_i_am_alive_time TIMESTAMPTZ, p_version INTEGER)
RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    current_version INTEGER;
BEGIN
    -- Locking the version row serializes all writers of this cluster until commit.
    SELECT version INTO current_version
      FROM orleans_membership_version WHERE deployment_id = p_deployment_id FOR UPDATE;
    IF current_version IS NULL OR current_version <> p_version THEN
        RETURN 0;
    END IF;

    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                    proxy_port, start_time, i_am_alive_time)
    VALUES (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
            COALESCE(p_proxy_port, 0), p_start_time, p_i_am_alive_time)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE orleans_membership_version SET version = version + 1, changed_at = now()
     WHERE deployment_id = p_deployment_id;
    RETURN 1;
END
$$;

-- Changes a silo's status, suspicions and heartbeat and bumps the version, both or neither (1 / 0).
CREATE OR REPLACE FUNCTION orleans_update_membership(
    p_deployment_id TEXT, p_address TEXT, p_port INTEGER, p_generation INTEGER, p_status INTEGER,
    p_suspect_times TEXT, p_i_am_alive_time TIMESTAMPTZ, p_version INTEGER)
RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    current_version INTEGER;
BEGIN
    SELECT version INTO current_version
      FROM orleans_membership_version WHERE deployment_id = p_deployment_id FOR UPDATE;
    IF current_version IS NULL OR current_version <> p_version THEN
        RETURN 0;
    END IF;

    UPDATE orleans_membership
       SET status = p_status, suspect_times = p_suspect_times, i_am_alive_time = p_i_am_alive_time
     WHERE deployment_id = p_deployment_id AND address = p_address AND port = p_port
       AND generation = p_generation;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE orleans_membership_version SET version = version + 1, changed_at = now()
     WHERE deployment_id = p_deployment_id;
    RETURN 1;
END
$$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM created
$q$),
('InsertMembershipKey', $q$
    SELECT orleans_insert_membership(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                     @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version)
$q$),
('UpdateMembershipKey', $q$
    SELECT orleans_update_membership(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                     @IAmAliveTime, @Version)
$q$),
-- Heartbeats do not bump the version: they are not membership changes.
('UpdateIAmAlivetimeKey', $q$
    UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
     WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),
-- The version row always comes back; the member columns are NULL when that silo has no row.
('MembershipReadRowKey', $q$
    SELECT v.deployment_id AS DeploymentId, m.address AS Address, m.port AS Port, m.generation AS Generation,
           m.silo_name AS SiloName, m.host_name AS HostName, m.status AS Status, m.proxy_port AS ProxyPort,
           m.suspect_times AS SuspectTimes, m.start_time AS StartTime, m.i_am_alive_time AS IAmAliveTime,
           v.version AS Version
      FROM orleans_membership_version v
      LEFT JOIN orleans_membership m
        ON m.deployment_id = v.deployment_id AND m.address = @Address AND m.port = @Port
       AND m.generation = @Generation
     WHERE v.deployment_id = @DeploymentId
$q$),
('MembershipReadAllKey', $q$
    SELECT v.deployment_id AS DeploymentId, m.address AS Address, m.port AS Port, m.generation AS Generation,
           m.silo_name AS SiloName, m.host_name AS HostName, m.status AS Status, m.proxy_port AS ProxyPort,
           m.suspect_times AS SuspectTimes, m.start_time AS StartTime, m.i_am_alive_time AS IAmAliveTime,
           v.version AS Version
      FROM orleans_membership_version v
      LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
     WHERE v.deployment_id = @DeploymentId
$q$),
('GatewaysQueryKey', $q$
    SELECT address AS Address, proxy_port AS ProxyPort, generation AS Generation
      FROM orleans_membership
     WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),
-- Removes the cluster's members and its version row (members go with it through the foreign key).
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
$q$),
-- Silos that stopped heartbeating before @IAmAliveTime and are not Active (3).
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM orleans_membership
     WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
