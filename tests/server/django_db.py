#!/usr/bin/python3
"""Builds and re-reads a real Django 3.2 SQLite database for sqlite_user_store_test.

usage: django_db.py create PATH   make the database with Django's own migrations:
                                  alice (active), carol (inactive, in a group)
       django_db.py check PATH    read it back through Django's ORM and auth backend

Each prints one JSON object on stdout. The fixture passwords live here (and in
the C++ test), never on a command line.
"""
import json
import sys

from django.conf import settings

ALICE_PASSWORD = 'wonderland'
CAROL_PASSWORD = 'through-the-looking-glass'
BOB_PASSWORD = 'jabberwocky'  # bob is created by jwtauth, not by Django


def setup(path):
    settings.configure(
        DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': path}},
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


def auth_user_sql():
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'auth_user'")
        return cursor.fetchone()[0]


def create():
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    call_command('migrate', verbosity=0)
    alice = User.objects.create_user('alice', 'alice@example.com', ALICE_PASSWORD)
    carol = User.objects.create_user('carol', 'carol@example.com', CAROL_PASSWORD)
    carol.is_active = False
    carol.save()
    carol.groups.add(Group.objects.create(name='readers'))
    return {
        'alice': user_json(alice),
        'carol': user_json(carol),
        'count': User.objects.count(),
        'auth_user_sql': auth_user_sql(),
    }


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
        'auth_user_sql': auth_user_sql(),
        'alice_authenticates': authenticate(username='alice', password=ALICE_PASSWORD) is not None,
        'carol_authenticates': authenticate(username='carol', password=CAROL_PASSWORD) is not None,
    }
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
