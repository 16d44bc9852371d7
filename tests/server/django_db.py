#!/usr/bin/python3
"""Builds and re-reads a real Django 3.2 user database for the compatibility tests.

usage: django_db.py create PATH   make the database with Django's own migrations:
                                  alice (active), carol (inactive, in a group)
       django_db.py check PATH    read it back through Django's ORM and auth backend

PATH is a SQLite file (sqlite_user_store_test, server_binary_test) or a
postgresql://user@host:port/dbname URL (django_postgres_test; the database
must exist and be empty; no password: the test cluster trusts local clients).

Each prints one JSON object on stdout. The fixture passwords live here (and in
the C++ test), never on a command line.
"""
import json
import sys
from urllib.parse import unquote, urlsplit

from django.conf import settings

ALICE_PASSWORD = 'wonderland'
CAROL_PASSWORD = 'through-the-looking-glass'
BOB_PASSWORD = 'jabberwocky'  # bob is created by jwtauth, not by Django


def database(path):
    """Django's DATABASES['default'] for a SQLite file or a postgresql:// URL."""
    if not path.startswith(('postgresql://', 'postgres://')):
        return {'ENGINE': 'django.db.backends.sqlite3', 'NAME': path}
    url = urlsplit(path)
    if url.password is not None or url.query:
        sys.exit('django_db.py: no password or options in the URL, please')
    return {
        'ENGINE': 'django.db.backends.postgresql',  # psycopg2 (python3-psycopg2)
        'NAME': unquote(url.path.lstrip('/')),
        'USER': unquote(url.username or ''),
        'HOST': url.hostname or '',
        'PORT': str(url.port or ''),
    }


def setup(path):
    settings.configure(
        DATABASES={'default': database(path)},
        INSTALLED_APPS=['django.contrib.auth', 'django.contrib.contenttypes'],
        PASSWORD_HASHERS=['django.contrib.auth.hashers.PBKDF2PasswordHasher'],
        USE_TZ=True,
    )
    import django
    django.setup()


def micros(dt):
    if dt is None:
        return None
    return int(dt.timestamp()) * 1000000 + dt.microsecond


def user_json(user):
    return {
        'id': user.pk,
        'email': user.email,
        'is_active': user.is_active,
        'date_joined_us': micros(user.date_joined),
        'last_login_us': micros(user.last_login),
        'password': user.password,
    }


def schema():
    """How the database itself describes auth_user, to compare before and after.

    SQLite: auth_user's CREATE TABLE text. PostgreSQL: its columns (name, type,
    nullability, default) and index definitions from the catalog, and the
    tables of the public schema.
    """
    from django.db import connection
    with connection.cursor() as cursor:
        if connection.vendor == 'sqlite':
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'auth_user'")
            return {'auth_user_sql': cursor.fetchone()[0]}
        cursor.execute(
            "SELECT column_name, data_type, character_maximum_length, is_nullable, "
            "column_default, is_identity FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'auth_user' "
            "ORDER BY ordinal_position")
        columns = []
        for name, data_type, length, nullable, default, identity in cursor.fetchall():
            column = '%s %s%s %s' % (name, data_type, '(%d)' % length if length else '',
                                     'NULL' if nullable == 'YES' else 'NOT NULL')
            if default is not None:
                column += ' DEFAULT ' + default
            if identity == 'YES':
                column += ' IDENTITY'
            columns.append(column)
        cursor.execute("SELECT indexdef FROM pg_indexes "
                       "WHERE schemaname = 'public' AND tablename = 'auth_user' ORDER BY indexname")
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(row[0] for row in cursor.fetchall())  # code point order
        return {'auth_user_columns': columns, 'auth_user_indexes': indexes, 'tables': tables}


def create():
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    call_command('migrate', verbosity=0)
    alice = User.objects.create_user('alice', 'alice@example.com', ALICE_PASSWORD)
    carol = User.objects.create_user('carol', 'carol@example.com', CAROL_PASSWORD)
    carol.is_active = False
    carol.save()
    carol.groups.add(Group.objects.create(name='readers'))
    result = {
        'alice': user_json(alice),
        'carol': user_json(carol),
        'count': User.objects.count(),
    }
    result.update(schema())
    return result


def check():
    from django.contrib.auth import authenticate
    from django.contrib.auth.models import User
    from django.core.management import call_command
    # Django still considers its schema fully migrated.
    call_command('migrate', check=True, verbosity=0)
    result = {
        'count': User.objects.count(),
        'usernames': sorted(User.objects.values_list('username', flat=True)),
        'alice': user_json(User.objects.get(username='alice')),
        'carol': user_json(User.objects.get(username='carol')),
        'alice_authenticates': authenticate(username='alice', password=ALICE_PASSWORD) is not None,
        'carol_authenticates': authenticate(username='carol', password=CAROL_PASSWORD) is not None,
    }
    result.update(schema())
    bob = User.objects.filter(username='bob').first()
    if bob is not None:
        result['bob'] = user_json(bob)
        result['bob_authenticates'] = authenticate(username='bob', password=BOB_PASSWORD) is not None
    return result


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('create', 'check'):
        sys.exit(__doc__)
    setup(sys.argv[2])
    print(json.dumps(create() if sys.argv[1] == 'create' else check()))


if __name__ == '__main__':
    main()
