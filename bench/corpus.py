"""Deterministic synthetic source texts for benchmarks.

The texts imitate what Marginalia holds: translated records of conversations and telegrams,
mostly English, with Russian and Chinese paragraphs, dialogue turns ("Stalin: ..."), archival
references, repeated formulae (the hard case for anchoring: the same words in many places), rare
characters outside the Basic Multilingual Plane and Cyrillic stress marks (combining characters
that survive NFC). Everything comes from one `random.Random(seed)`, so a seed names a text.

    from bench.corpus import make_text
    text = make_text(1_000_000, seed=7)
"""

from __future__ import annotations

import random
import unicodedata
from itertools import accumulate


def _words(text: str) -> list[str]:
    return text.split()


# Function words first: the weights below fall with the rank, so they dominate as in real prose.
ENGLISH = _words("""
the of and to in that a is was for it with as on not he be by his this had at which are from
but have we they you all were their would there been one has will more if no so our what
about when can only other into its than them these some out then could us may should also
must very such now any those first even upon great without both under made time people
Soviet Chinese government comrade party question treaty agreement delegation Moscow Beijing
Korea Japan American Americans Kuomintang Taiwan Manchuria railway Port Arthur Dalny loan
credit army troops war peace conversation meeting telegram report minister ambassador
committee central leadership revolution communist workers peasants industry trade economic
military aid assistance negotiations proposal answer position view opinion said asked
replied noted stressed declared agreed considered believed think know want need told
understand support help decide discuss prepare send receive sign visit arrive leave
important necessary possible difficult serious good bad new old large small friendly
long short last next present future past situation problem matter issue interests
relations cooperation alliance mutual friendship security imperialists enemy capitalist
socialist Mongolia Xinjiang Tibet Indochina France Britain India United States Europe
document archive copy original secret translation text draft point article clause
protocol memorandum record note comrades leaders members soldiers officers specialists
advisers factories plants coal steel grain oil machines ports ships aircraft weapons
""")

NAMES = [
    "Stalin",
    "Mao Zedong",
    "Zhou Enlai",
    "Molotov",
    "Vyshinsky",
    "Kovalev",
    "Roshchin",
    "Wang Jiaxiang",
    "Liu Shaoqi",
    "Mikoyan",
    "Kim Il Sung",
    "Fedorenko",
    "Chen Boda",
    "Shi Zhe",
    "Gao Gang",
    "Malenkov",
    "Beria",
    "Bulganin",
    "Khrushchev",
    "Peng Dehuai",
]

RUSSIAN = _words("""
и в не на что с он как это по к но за из у же от о для мы вы они товарищ Сталин Мао Цзэдун
Чжоу Эньлай договор соглашение правительство советский китайский делегация Москва Пекин
вопрос ответ война мир армия железная дорога Порт-Артур заём кредит помощь промышленность
переговоры предложение сказал спросил ответил заявил считает думает знает может должны
нужно очень важно хорошо плохо новый старый большой союз дружба взаимная безопасность
империалисты Америка Япония Корея Тайвань Маньчжурия документ архив копия перевод текст
проект пункт статья протокол запись беседы секретно совершенно лично сегодня завтра
вчера здесь там время год месяц день народ партия революция рабочие крестьяне
""")

# Cyrillic vowels with a combining acute (stress mark): no precomposed forms, so NFC keeps them.
STRESSED = ["до́лжен", "бесе́да", "Мао́", "догово́р", "пра́вда"]

CHINESE = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过"
    "家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所"
    "本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全"
    "工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教"
    "西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性"
    "通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲"
    "界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认"
    "算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红"
    "治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写"
    "呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首"
    "斯大林毛泽东周恩来莫斯科北京条约同盟互助苏联中国人民政府代表团谈话记录"
)
RARE_HAN = ["𠮷", "𡈽", "𪚥", "𠀋"]  # outside the BMP: four bytes in UTF-8, two UTF-16 units
EMOJI = ["👍🏽", "📎", "🇷🇺"]

TERMINATORS = ".", ".", ".", ".", ".", ".", "?", "!", ";"


def _zipf_weights(n: int) -> list[float]:
    return list(accumulate(1.0 / (rank + 2) for rank in range(n)))


_ENGLISH_CUM = _zipf_weights(len(ENGLISH))
_RUSSIAN_CUM = _zipf_weights(len(RUSSIAN))


def english_sentence(rng: random.Random) -> str:
    words = rng.choices(ENGLISH, cum_weights=_ENGLISH_CUM, k=rng.randint(5, 26))
    if rng.random() < 0.45:
        words.insert(rng.randrange(len(words)), rng.choice(NAMES))
    if len(words) > 9 and rng.random() < 0.5:
        words[rng.randrange(2, len(words) - 2)] += ","
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + rng.choice(TERMINATORS)


def russian_sentence(rng: random.Random) -> str:
    words = rng.choices(RUSSIAN, cum_weights=_RUSSIAN_CUM, k=rng.randint(5, 22))
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), rng.choice(STRESSED))
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + rng.choice(".....?!")


def chinese_sentence(rng: random.Random) -> str:
    chars = [rng.choice(CHINESE) for _ in range(rng.randint(8, 40))]
    if rng.random() < 0.15:
        chars.insert(rng.randrange(len(chars)), rng.choice(RARE_HAN))
    if len(chars) > 12:
        chars.insert(rng.randrange(4, len(chars) - 4), "，")
    return "".join(chars) + rng.choice("。。。。？！")


def archival_reference(rng: random.Random) -> str:
    return (
        f"[Source: APRF, f. {rng.randint(3, 99)}, op. {rng.randint(1, 9)}, "
        f"d. {rng.randint(1, 999)}, ll. {rng.randint(1, 80)}–{rng.randint(81, 160)}. "
        "Translated for the archive.]"
    )


def paragraph(rng: random.Random) -> str:
    """One paragraph: mostly English prose or a dialogue turn, sometimes Russian or Chinese."""
    roll = rng.random()
    if roll < 0.08:
        body = " ".join(russian_sentence(rng) for _ in range(rng.randint(1, 5)))
    elif roll < 0.13:
        body = "".join(chinese_sentence(rng) for _ in range(rng.randint(1, 6)))
    elif roll < 0.16:
        body = archival_reference(rng)
    else:
        body = " ".join(english_sentence(rng) for _ in range(rng.randint(1, 7)))
        if roll < 0.45:
            body = f"{rng.choice(NAMES)}: {body}"
    if rng.random() < 0.01:
        body += f" {rng.choice(EMOJI)}"
    return body


def make_text(size: int, *, seed: int = 0) -> str:
    """About `size` code points of NFC text: paragraphs separated by blank lines."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    length = 0
    while length < size:
        if paragraphs and rng.random() < 0.02:
            paragraphs.append(f"Document No. {len(paragraphs)}")
        paragraphs.append(paragraph(rng))
        length += len(paragraphs[-1]) + 2
    return unicodedata.normalize("NFC", "\n\n".join(paragraphs))
