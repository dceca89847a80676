-- Local stand-ins for what only Supabase provides: the roles PostgREST switches to
-- (anon, authenticated, service_role), the auth schema with auth.users, and auth.uid(),
-- auth.role(), auth.jwt() reading the request's JWT claims the way PostgREST sets them
-- (set_config('request.jwt.claims', '<json>', true) per transaction).
--
-- Applied before the migrations on plain PostgreSQL and on the embedded PGlite store,
-- NEVER on Supabase, where all of this already exists (and differs in detail).
-- Every object is created only when absent, so running this again changes nothing.
--
-- PGlite (0.5.x, PostgreSQL 18 in WASM) is single-user but still has a role catalogue:
-- CREATE ROLE, SET ROLE and row-level security behave as on a server, so this file is the
-- same for both. Roles are cluster-wide; the DO blocks tolerate another database of the
-- same cluster (or a concurrent run) having created them first.

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
exception when duplicate_object then null;
end
$$;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
exception when duplicate_object then null;
end
$$;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    -- As on Supabase: the server-side key's role ignores row-level security.
    create role service_role nologin noinherit bypassrls;
  end if;
exception when duplicate_object then null;
end
$$;

create schema if not exists auth;

-- A minimal auth.users: projects.user_id references it, as on Supabase. The embedded
-- store inserts its local user (or the signed-in Supabase user's id) here.
create table if not exists auth.users (
  id uuid primary key,
  email text,
  created_at timestamptz not null default now()
);

-- Supabase's own definitions: the legacy per-claim setting first, then the claims JSON.
-- nullif(..., '') matters: after a transaction-local set_config ends the setting reads ''
-- (not NULL), and ''::jsonb would fail.
do $$
begin
  if pg_catalog.to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
      language sql stable
      as $f$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $f$;
  end if;
  if pg_catalog.to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
      language sql stable
      as $f$
        select coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $f$;
  end if;
  if pg_catalog.to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
      language sql stable
      as $f$
        select coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
      $f$;
  end if;
end
$$;

-- Privileges as Supabase grants them: the API roles may use the schemas and get every
-- privilege on public tables, functions and sequences; row-level security (enabled on
-- every table by the migrations) is what limits them. Default privileges cover the
-- tables the migrations create after this file (they apply to objects created by the
-- role running this file, which is the role that runs the migrations). There is no
-- blanket "GRANT ... ON ALL TABLES/FUNCTIONS" here on purpose: this file runs again before
-- every migration run, and what a migration revoked (EXECUTE on a maintenance function)
-- must stay revoked.
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
