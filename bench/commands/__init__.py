"""One command per benchmark (Django `BaseCommand`s run by `python -m bench <name>`, not by manage.py)."""
