-- The analyst role creates nothing anywhere, temporary tables included. 0001 revoked TEMPORARY on the warehouse
-- database from PUBLIC, but every role may still connect to the server's other databases, and PUBLIC may create
-- temporary tables in the maintenance database `postgres` (PostgreSQL's default). Where the migrating role may
-- change that database (a superuser: the embedded server, the bundled `warehouse` container) it is revoked here;
-- on a shared server that is the DBA's decision (docs/production.md), so only a notice is raised.
do $$
begin
    if not exists (select from pg_database where datname = 'postgres') then
        return;
    end if;
    if (select rolsuper from pg_roles where rolname = current_user)
       or pg_has_role(current_user, (select datdba from pg_database where datname = 'postgres'), 'usage') then
        revoke temporary on database postgres from public;
    else
        raise notice 'PUBLIC may still create temporary tables in database postgres: '
            'the DBA may run REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC (docs/production.md)';
    end if;
end
$$;
