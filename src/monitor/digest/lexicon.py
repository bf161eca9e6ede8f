"""Words that name the same thing, for grouping reports into events (`events.py`). Pure.

Two outlets tell one happening in their own words: "blast" and "explosion", "Azeri" and "Azerbaijan",
"взрыв" and "explosion". Each word here is reduced to one key per class, so the kind of happening (the main
verb or noun of a headline) and its actors count as shared; an actor is a name (`is_actor`), which alone
does not make two headlines tell the same happening. The classes are the common
kinds of news happenings (violence, agreements, arrests, departures, decisions) and the demonyms of the
feeds' region, in English and Russian (the shipped feeds' languages); they were written from what the words
mean, not fitted to any headline.
"""

from __future__ import annotations

import re
from functools import cache

from ..text.stemming import stem

# Kinds of happening: the main verb or noun of a headline's lead. A class is a line, continued by indented
# lines (the Russian words). A word may be of several kinds ("pull out" of talks, "pull out" of a base); its
# key is that of its first class.
_KINDS = """
explosion blast explode explodes exploded exploding blew detonation
    взрыв взрыва взрывом взорвался взорвалась
ceasefire truce armistice
    перемирие перемирия
arrest arrested arrests detain detained detains detention apprehended
    арест арестован арестована арестовали задержан задержали задержание
dissolve dissolves dissolved dissolution disband disbands disbanded abolish abolished cease ceases
    роспуск распустить упразднить упразднен ликвидация
offensive assault assaults onslaught operation launch launches launched began begin begins start starts
    наступление операция операцию атака атаку
surrender surrenders surrendered concede concedes capitulate capitulates capitulation end ends ended
    капитуляция капитулировал сдался
flee flees fled fleeing leave leaves left exodus evacuate evacuated exit withdraw withdraws pull pulls
    бежать бежали покинули покидают выехали исход
dead killed kill kills deaths death die died toll fatalities injured injuries wounded
    погибли погибших погиб погибшие жертвы жертв убиты ранены
capture captured captures seize seized seizes recapture recaptured fall falls
    захват захватил захватили взяли
talks negotiations negotiate negotiating summit meet meets meeting
    переговоры переговоров саммит встреча
summon summons summoned
    вызвал вызвали
skip skips boycott boycotts withdraw withdraws pull pulls snub snubs
    пропустит бойкот откажется
sanction sanctions
    санкции санкций
protest protests protesters rally rallies
    демонстрация протест протесты митинг
open opens opened reopen reopens reopened
    открыт открыли открылся
close closes closed block blocks blocked blockade
    закрыт закрыли перекрыли блокада
register registers registered registration
    регистрация
attend attends attendance confirm confirms
    участвовать
sign signs signed decree decrees
    указ подписал подписали
ratify ratifies ratified ratification join joins accede membership
    ратифицировал ратифицировала вступить
raise raises raised hoist hoists
    поднял подняли
sell sells sold sale sales supply supplies deliver delivers send sends sent arms weapons
    продаст продала поставит поставки
promise promises promised offer offers offered pledge pledges guarantee guarantees
    обещает обещал предложил гарантирует
shell shells shelled shelling strike strikes hit hits missile missiles rocket rockets bomb bombed
    обстрел обстреляли удар ракеты
arrive arrives arrived reach reaches reached visit visits
    прибыл прибыли прибыла посетил
accuse accuses accused blame blames
    обвинил обвинили обвиняет
warn warns warned warning
    предупредил предупреждает
shortage shortages run runs short lack lacks
    нехватка дефицит
"""
# Other words that name the same thing: things, then actors (demonyms, capitals, names in both scripts).
_THINGS = """
refugee refugees displaced evacuees
    беженцы беженцев беженца переселенцы
weapons arms weaponry armament
    оружие оружия вооружение
city town
    город города
"""
_ACTORS = """
azerbaijan azerbaijani azerbaijanis azeri azeris baku
    азербайджан азербайджана азербайджанский азербайджанские баку
armenia armenian armenians yerevan
    армения армении армянский армянские армяне армян ереван
russia russian russians moscow kremlin
    россия россии российский российские москва кремль
karabakh karabagh artsakh
    карабах карабаха нагорный арцах
stepanakert khankendi
    степанакерт ханкенди
turkey turkish ankara
    турция турции турецкий анкара
france french paris
    франция франции французский париж
iran iranian tehran
    иран ирана иранский тегеран
aliyev
    алиев алиева
pashinyan
    пашинян пашиняна
putin
    путин путина
ganja
    гянджа гянджи гяндже
"""


@cache
def _classes() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Each stemmed word's key (its first line's first word), and the kinds of happening it names."""
    keys: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    for text, is_kind in ((_KINDS, True), (_THINGS, False), (_ACTORS, False)):
        for line in re.split(r"\n(?! )", text.strip()):
            words = line.split()
            head = stem(words[0])
            for word in words:
                key = keys.setdefault(stem(word), head)
                if is_kind:
                    kinds.setdefault(key, set()).add(head)
    return keys, {key: frozenset(found) for key, found in kinds.items()}


def canonical(key: str) -> str:
    """The key of a stemmed word's class, or the word itself."""
    return _classes()[0].get(key, key)


@cache
def _actors() -> frozenset[str]:
    return frozenset(stem(line.split()[0]) for line in re.split(r"\n(?! )", _ACTORS.strip()))


def is_actor(key: str) -> bool:
    """Whether a key names an actor or a place (a country, a capital, a leader), not a thing or a happening."""
    return key in _actors()


def kinds(key: str) -> frozenset[str]:
    """The kinds of happening a word's key names ("explos", "arrest"...); none for most words."""
    return _classes()[1].get(key, frozenset())
