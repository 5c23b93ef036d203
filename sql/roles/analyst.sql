-- The analyst login's server-level state, for a warehouse whose database is migrated but whose server has no
-- `analyst` role: a `pg_dump` restored onto a new server (docs/production.md, "Backups": roles live outside the
-- dump, so its GRANTs to analyst failed and the migrations, already at head, never run again), or a role a DBA
-- dropped. Run by etl.warehouse.prepare only when the role is missing. What the migrations did for the role
-- (0001 role, read-only default, connect and select grants; 0004 large objects; 0013 temporary tables in the
-- maintenance database), idempotent, in one script: the migrations themselves are history and stay unchanged.
do $$
begin
    if not exists (select from pg_roles where rolname = 'analyst') then
        create role analyst login;
    end if;
end
$$;
alter role analyst set default_transaction_read_only = on;
revoke create on schema public from public;
do $$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format('grant connect on database %I to analyst', current_database());
end
$$;
grant usage on schema core, mart, dq to analyst;
grant select on all tables in schema core, mart, dq to analyst;
alter default privileges in schema core, mart, dq grant select on tables to analyst;
do $$
begin
    if (select rolsuper from pg_roles where rolname = current_user) then
        revoke execute on function lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea), lo_import(text),
            lo_import(text, oid) from public;
        if exists (select from pg_database where datname = 'postgres') then
            revoke temporary on database postgres from public;
        end if;
    else
        raise notice 'analyst role re-created: the DBA may run REVOKE EXECUTE ON FUNCTION lo_create(oid), '
            'lo_creat(integer), lo_from_bytea(oid, bytea), lo_import(text), lo_import(text, oid) FROM PUBLIC and '
            'REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC (docs/production.md)';
    end if;
end
$$;
