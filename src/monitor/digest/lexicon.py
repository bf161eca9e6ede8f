"""Words that name the same thing, for grouping reports into events (`events.py`). Pure.

Two outlets tell one happening in their own words: "blast" and "explosion", "Azeri" and "Azerbaijan",
"взрыв" and "explosion". Each word here is reduced to one key per class, so the kind of happening (the main
verb or noun of a headline) and its actors count as shared; an actor is a name (`is_actor`), which alone
does not make two headlines tell the same happening. The classes are the common
kinds of news happenings in the spirit of CAMEO and ACE event types (violence, agreements and their coming
into force, talks held and skipped, arrests and releases, departures, decisions, reactions) and the demonyms
of the feeds' region, in English and Russian (the shipped feeds' languages); they were written from what the
words mean, not fitted to any headline. Some kinds are opposite kinds of one thing (`opposed`), some phrases
say a kind in several words (`phrased`).
"""

from __future__ import annotations

import itertools
import re
from functools import cache

from ..text.stemming import stem
from ..text.terms import fold

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
release releases released free frees freed
    освобожден освобождена освободили отпустили
dissolve dissolves dissolved dissolution disband disbands disbanded abolish abolished cease ceases
    роспуск распустить упразднить упразднен ликвидация
offensive assault assaults onslaught operation launch launches launched
    наступление операция операцию атака атаку
surrender surrenders surrendered concede concedes capitulate capitulates capitulation end ends ended
    halt halts halted cessation disarm disarms disarmed disarmament layarms
    капитуляция капитулировал сдался разоружение разоружаются сложили
flee flees fled fleeing leave leaves left exodus evacuate evacuated exit withdraw withdraws pull pulls
    withdrawal pullout depart departs departed departure departures relocate relocated relocation
    бежать бежали покинули покидают покинуть выехали уехали уезжают выезд исход выход вывод эвакуированы
    эвакуация эвакуировали переселились
dead killed kill kills deaths death die died toll fatalities injured injuries wounded
    погибли погибших погиб погибшие жертвы жертв убиты ранены
capture captured captures seize seized seizes recapture recaptured retake retakes retook retaken regain
    regains regained fall falls
    захват захватил захватили взяли
talks negotiations negotiate negotiating negotiators summit meet meets meeting dialogue
    переговоры переговоров саммит встреча встретились встретятся обсудили
summon summons summoned
    вызвал вызвали
skip skips boycott boycotts snub snubs cancel cancels cancelled canceled
    refuse refuses refused decline declines declined
    пропустит бойкот откажется отказался отменил отменили
agree agrees agreed agreement deal accord broker brokers brokered
    договорились договоренность соглашение согласовали
inforce takeseffect breach breaches breached violate violates violated violation
    violations break breaks breaking broke broken shatter shatters shattered collapse collapses collapsed
    нарушение нарушения нарушили нарушил нарушают соблюдается
sanction sanctions
    санкции санкций
protest protests protesters rally rallies
    демонстрация протест протесты митинг
open opens opened reopen reopens reopened
    открыт открыли открылся
close closes closed shut shuts block blocks blocked blockade
    закрыт закрыли перекрыли блокада
register registers registered registration
    регистрация
attend attends attended attending attendance confirm confirms confirmed participate participates
    участвовать участие подтвердил
sign signs signed decree decrees
    указ подписал подписали
ratify ratifies ratified ratification join joins accede membership approve approves approved
    ратифицировал ратифицировала вступить одобрил одобрила
reject rejects rejected veto vetoes vetoed
    отклонил отклонила отверг отвергла
host hosts hosted hosting convene convenes convened hold holds held
    проведут проведет пройдут
extend extends extended extension prolong prolongs prolonged
    продлить продлили продлении продление
flood floods flooding flooded
    наводнение наводнения паводок
earthquake quake tremor
    землетрясение
wildfire wildfires blaze
    пожар пожары
raise raises raised hoist hoists
    поднял подняли
sell sells sold sale sales supply supplies deliver delivers send sends sent arms weapons
    продаст продала поставит поставки
promise promises promised offer offers offered pledge pledges guarantee guarantees
    обещает обещал предложил гарантирует
clash clashes clashed skirmish skirmishes shootout firefight gunfire openfire
    столкновение столкновения столкновений перестрелка перестрелки перестрелку
shell shells shelled shelling strike strikes hit hits missile missiles rocket rockets bomb bombed attack
    attacks attacked pound pounds pounded pounding bombard bombards bombarded bombardment
    обстрел обстреляли удар ракеты
arrive arrives arrived reach reaches reached visit visits
    прибыл прибыли прибыла посетил
accuse accuses accused blame blames
    обвинил обвинили обвиняет
condemn condemns condemned denounce denounces denounced
    осудил осудили осуждает
apologise apologises apologised apologize apologizes apologized apology
    извинился извинилась извинились извинения
deny denies denied
    опроверг опровергает отрицает
welcome welcomes welcomed
    приветствовал приветствует приветствуют
recall recalls recalled
    отозвал отозвала отзывает
warn warns warned warning
    предупредил предупреждает
shortage shortages run runs short lack lacks
    нехватка дефицит
resign resigns resigned resignation stepsdown quit quits
    отставка отставку
election elections vote votes voted referendum
    выборы голосование референдум
recognise recognises recognised recognize recognizes recognized recognition
    признал признала признает признание
deploy deploys deployed deployment
    развернут развернули ввод
return returns returned returning
    вернулись возвращаются возвращение
"""
# Kinds that tell two happenings of one thing when one report's lead names one and the other's the other:
# a ceasefire agreed is not the ceasefire in force or broken; one leader skipping talks is not another
# attending; a road opened is not one closed; an arrest is not a release. A lead naming both tells the
# second, the first being its background ("the truce agreed on Monday takes effect", "detained leader freed",
# "reopens after closure").
_OPPOSED = (
    ("agre", "inforc"),
    ("attend", "skip"),
    ("host", "skip"),
    ("talk", "skip"),
    ("offens", "surrend"),
    ("close", "open"),
    ("arrest", "releas"),
    ("agre", "reject"),
    ("ratifi", "reject"),
)
# Kinds that are one happening told from either side: one side's gunfire is the other's attack, a town taken
# by one side is surrendered by the other; and refugees leaving one country are arriving in another (but
# someone leaving, and an envoy arriving, are two happenings: people on the move are told by `develops`).
_ONE_HAPPENING = (("clash", "shell"), ("captur", "surrend"))
_AKIN = (("flee", "arriv"), *_ONE_HAPPENING)
# Developments counted day by day: each day's figure of people leaving, arriving, returning or registering is a
# milestone of its own, not an update of the last. Told of people: an envoy arriving is a visit, troops
# withdrawing or a country leaving an alliance no departure of people.
_DEVELOPMENTS = frozenset({"flee", "arriv", "return", "regist"})
_PEOPLE = frozenset({"refuge", "peopl", "villag", "ethnic"})
# Another party's answer to a happening: a government protesting an arms sale, condemning an offensive,
# welcoming a release or summoning an envoy over it is a second who-did-what, not another report of the sale,
# the offensive or the release. Said by a verb: "detained in a protest" names a rally, not an answer.
# (Accusing and denying are left out: a report of an attack often leads with one side's claim of it, and is
# that attack's report.)
_ANSWER = re.compile(
    r"\b(?:protest(?:s|ed)?|condemn(?:s|ed)?|denounce[sd]?|welcome[sd]?|summon(?:s|ed)?|recall(?:s|ed)?|"
    r"осудил\w*|осуждает|осуждают|приветствова\w*|приветствует|приветствуют|вызвал\w*|отозвал\w*|протестует)\b",
    re.IGNORECASE,
)
# Words after which such a word is a rally, not an answer: "thousands protest in Yerevan" answers nothing.
_NOT_AN_OBJECT = frozenset(
    "in at on outside near over after against across as for to from during amid в на у против".split()
)
# Words before which such a word is a noun or an adjective ("in protest", "a welcome step", "the recall").
_NOT_A_VERB = frozenset(
    "a an the in at of on over after amid against during to for by new mass his her their its".split()
)
# Phrases that say a kind in several words, as the one word standing for them (folded text).
# Each with the words one of which it cannot be without: most texts have none, and are not searched.
_PHRASES = (
    (
        ("effect", "force", "силу"),
        r"\b(?:take|takes|taking|took|taken) effect\b|\b(?:in|into) force\b|вступил[оаи]? в силу",
        "takeseffect",
    ),
    (("arms", "weapons"), r"\b(?:lay|lays|laid|laying) down (?:their |its |his )?(?:arms|weapons)\b", "layarms"),
    (
        ("arms", "weapons"),
        r"\b(?:hand|hands|handed|handing) (?:over|in) (?:their |its |his )?(?:arms|weapons)\b",
        "layarms",
    ),
    (("оружие",), r"сложи\w* оружие|сда\w* оружие", "layarms"),
    (("down",), r"\b(?:step|steps|stepped|stepping) down\b", "stepsdown"),
    # Opening or trading fire is a clash, not an opening or a trade.
    (
        ("fire",),
        r"\b(?:open|opens|opened|opening|exchange|exchanges|exchanged|exchanging|trade|trades|traded|trading)"
        r" (?:of )?(?:gun)?fire\b",
        "openfire",
    ),
    # "Cease-fire" is a truce, not a cessation; "reach a deal" an agreement, not an arrival.
    (("cease",), r"\bcease[- ]fires?\b", "ceasefire"),
    (
        ("reach",),
        r"\b(?:reach|reaches|reached|reaching)"
        r"(?= (?:an? |the )?(?:[\w-]+ ){0,2}(?:deal|agreement|accord|truce|ceasefire)\b)",
        "agree",
    ),
    # Baku named its offensive "anti-terrorist measures"; "cease to exist" is the republic's dissolution.
    (("terror",), r"\banti-?terror(?:ist)? (?:measures|operation|operations|campaign)\b", "offensive"),
    (("террор",), r"антитеррористическ\w* (?:мероприяти\w*|операци\w*)", "наступление"),
    (("exist",), r"\bceases? to exist\b|\bwill cease\b", "dissolve"),
    (("существ",), r"прекрат\w* (?:свое )?существовани\w*", "роспуск"),
    (("огня",), r"прекращени\w* огня", "перемирие"),
    ((" up",), r"\b(?:give|gives|gave|giving|given) up\b", "surrender"),
    # A truce "holds" is in force; talks are "held" (the host's kind).
    (
        ("hold", "held"),
        r"\b(ceasefire|truce|armistice) (?:largely |still |is |was )?(?:holds|holding|held)\b",
        r"\1 takeseffect",
    ),
    # Attending, negated, is skipping: "will not attend", "refuses to take part", "не примет участия".
    (
        ("not ", "n't", "refuse", "decline"),
        r"\b(?:will not|won't|not to|does not|did not|doesn't|didn't|refuses? to|refused to|declines? to|declined to)"
        r" (?:attend|go to|travel to|take part|participate|join)\b",
        "skip",
    ),
    (("участи", "поедет"), r"\bне (?:примет|принял|будет) участи\w*|\bне поедет\b|отказал\w* от участия", "skip"),
    # Pulling out of talks is skipping them, not an exodus.
    (
        ("pull", "withdr"),
        r"\b(?:pull|pulls|pulled|pulling|withdraw|withdraws|withdrew|withdrawn) (?:out )?(?:of|from) (?=(?:the )?"
        r"(?:[\w-]+ ){0,3}(?:talks|summit|meeting|negotiations)\b)",
        "boycott ",
    ),
)
# Other words that name the same thing: things, then actors (demonyms, capitals, names in both scripts).
_THINGS = """
refugee refugees displaced evacuees
    беженцы беженцев беженца переселенцы
people persons population families thousands hundreds dozens
    человек люди людей население семьи семей тысячи тысяч сотни
weapons arms weaponry armament
    оружие оружия вооружение
city town
    город города
border borders frontier
    граница границе границы
fighting fight fights hostilities combat conflict war
    бои боев боевые конфликт война
cleansing
    чистка чисткой чистки
ethnic
    этническая этнической этнические этнических
enclave region territory district districts province
    анклав регион территория район района районе области область
leader leaders
    лидер лидера лидеры
president presidential
    президент президента
minister ministers ministry
    министр министра министерство
prime premier pm
    премьер премьер-министр
defence defense
    оборона обороны
opposition
    оппозиция оппозиции
parliament parliamentary
    парламент парламента
court judge
    суд суда
police
    полиция полиции
army troops forces military
    армия армии войска военные
government authorities
    правительство власти
militia militias separatists rebels fighters formations
    ополченцы ополчение сепаратисты боевики формирования формирований
villagers residents civilians
    жители мирные
participation
    участие участия
ambassador ambassadors envoy envoys
    посол посла послов
aid humanitarian convoy cargo
    помощь гуманитарный гуманитарная гуманитарной гуманитарного конвой груз
peacekeepers peacekeeper peacekeeping contingent
    миротворцы миротворцев миротворческий контингент
"""
_ACTORS = """
azerbaijan azerbaijani azerbaijanis azeri azeris baku
    азербайджан азербайджана азербайджанский азербайджанские баку
armenia armenian armenians yerevan
    армения армении армянский армянские армяне армян ереван
russia russian russians moscow kremlin
    россия россии российский российские москва кремль
karabakh karabagh artsakh nagorno
    карабах карабаха карабахе нагорный нагорного арцах
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
lachin
    лачин лачина лачине лачинский лачинского
goris
    горис гориса горисе
shusha shushi
    шуша шуши шушу шуше
aghdam agdam
    агдам агдама агдаме
yevlakh
    евлах евлаха евлахе
vardanyan
    варданян варданяна варданяну
shahramanyan
    шахраманян шахраманяна
harutyunyan
    арутюнян арутюняна
mirzoyan
    мирзоян мирзояна
bayramov
    байрамов байрамова
lavrov
    лавров лаврова
peskov
    песков пескова
macron
    макрон макрона
erdogan
    эрдоган эрдогана
blinken
    блинкен блинкена
india indian
    индия индии индию индией
eu
    ес евросоюз евросоюза
un
    оон
us usa washington
    сша вашингтон
nato
    нато
csto
    одкб
"""


@cache
def _classes() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Each stemmed word's key (its first line's first word), and the kinds of happening it names."""
    keys: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    for text, is_kind in ((_KINDS, True), (_THINGS, False), (_ACTORS, False)):
        for line in re.split(r"\n(?! )", text.strip()):
            words = line.split()
            # Folded as the headlines' words are ("й" is "и"), or a Russian word would never meet its class.
            head = stem(fold(words[0]))
            for word in words:
                key = keys.setdefault(stem(fold(word)), head)
                if is_kind:
                    kinds.setdefault(key, set()).add(head)
    return keys, {key: frozenset(found) for key, found in kinds.items()}


def canonical(key: str) -> str:
    """The key of a stemmed word's class, or the word itself."""
    return _classes()[0].get(key, key)


@cache
def _actors() -> frozenset[str]:
    return frozenset(stem(fold(line.split()[0])) for line in re.split(r"\n(?! )", _ACTORS.strip()))


def is_actor(key: str) -> bool:
    """Whether a key names an actor or a place (a country, a capital, a leader), not a thing or a happening."""
    return key in _actors()


def kinds(key: str) -> frozenset[str]:
    """The kinds of happening a word's key names ("explos", "arrest"...); none for most words."""
    return _classes()[1].get(key, frozenset())


def resolved(found: frozenset[str]) -> frozenset[str]:
    """A lead's kinds, without the first of an opposed pair when it names the second too (its background)."""
    return found - {x for x, y in _OPPOSED if x in found and y in found}


@cache
def _opposed() -> frozenset[tuple[str, str]]:
    return frozenset(itertools.chain(_OPPOSED, ((b, a) for a, b in _OPPOSED)))


def opposed(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two leads' kinds tell two happenings of one thing: one names a kind, the other its opposite,
    and neither names both ("agree" a ceasefire, the ceasefire "takes effect")."""
    return any((x, y) in _opposed() and y not in a and x not in b for x in a for y in b)


def answers(lead: str) -> bool:
    """Whether a headline's lead tells someone's answer to a happening: a verb of reaction between who
    answers and what it answers ("Azerbaijan protests Indian arms sales", "EU condemns the offensive"); a
    word that opens or ends the lead, or follows an article or a preposition, is a noun ("Protests erupt",
    "detained in Yerevan protest")."""
    for found in _ANSWER.finditer(lead):
        before = lead[: found.start()].split()
        after = lead[found.end() :].split()
        if before and after and before[-1].casefold() not in _NOT_A_VERB and after[0].casefold() not in _NOT_AN_OBJECT:
            return True
    return False


_ACCOMPANYING = frozenset({"dead", "host"})


def main_kinds(found: frozenset[str]) -> frozenset[str]:
    """A lead's kinds without those that come with another: the toll of a violent happening ("blast kills 20"
    and "large explosion" lead with the same kind), the holding of talks ("hold peace talks", "talks begin");
    each when it is the only one."""
    return found - _ACCOMPANYING or found


def develops(found: frozenset[str], lead: frozenset[str]) -> bool:
    """Whether a lead tells a development counted day by day: people (refugees, residents, "thousands", a
    figure: its keys) leaving, arriving, returning, registering (its kinds)."""
    return bool(found & _DEVELOPMENTS) and any(k in _PEOPLE or k.startswith("#") for k in lead)


def alike(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two leads name the same kinds of happening, or one kind each told from either side ("clash",
    "attack")."""
    if not a or not b:
        return False
    if a == b:
        return True
    return len(a) == len(b) == 1 and any((x, y) in _ONE_HAPPENING or (y, x) in _ONE_HAPPENING for x in a for y in b)


def akin(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two leads' kinds share one, or name one happening from either side ("flee", "arrive")."""
    return bool(a & b) or any((x, y) in _AKIN or (y, x) in _AKIN for x in a for y in b)


def phrased(text: str) -> str:
    """The text with each phrase of a kind written as its one word ("took effect": "takeseffect")."""
    folded = text.casefold()
    for anchors, pattern, word in _compiled():
        if any(a in folded for a in anchors):
            text = pattern.sub(word, text)
    return text


@cache
def _compiled() -> tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...]:
    return tuple((anchors, re.compile(pattern, re.IGNORECASE), word) for anchors, pattern, word in _PHRASES)
