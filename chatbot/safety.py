"""The safeguarding screen: runs before matching, and wins over it.

A message that suggests a child may be at risk is escalated as urgent whatever
the matcher thinks. The patterns run over canonical words (see normalise.words),
so "my dd", "my daughter" and "my girl" all read as "my child", and "pics" as
"photo". Missing a real risk is far worse than a false alarm, but false alarms
are measured too (the evaluation reports the false-urgent rate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.normalise import words

_CHILD = r"(?:child|year\s?\d|year6|y\d|\d+\s?yearold|yearold|teen|teenager|minor|niece|nephew|grandchild|her|him|them)"
_ADULT = r"(?:man|men|woman|adult|stranger|older \w+|grown up|someone|somebody|person|guy|bloke|teacher|staff|coach|member of staff|parent|relative|he|she|they)"
_CONTACT = r"(?:facetim\w*|video ?call\w*|video ?chat\w*|messag\w*|message|text\w*|contact\w*|chat\w*|talk\w*|dm\w*|add\w*|follow\w*|snapchat\w*|call\w*|groom\w*|ask\w*|send\w*|sent|meet\w*)"

_PATTERNS: dict[str, tuple[str, ...]] = {
    "self_harm": (
        r"\bkill (?:himself|herself|themselves|themself|myself|\w+self)\b",
        r"\bsuicid\w*",
        r"\bself ?harm\w*",
        r"\b(?:hurt|hurting|harm|harming|cut|cutting|cuts|burn\w*|starv\w*) (?:himself|herself|themselves|themself)\b",
        r"(?<!\bi )(?<!\bi just )(?<!\bi honestly )(?<!\bhonestly i )\b(?:want|wants|wanted|wanting) to die\b",  # not a parent's "I want to die" on hold to the council
        r"\bend (?:his|her|their|my) (?:own )?life\b",
        r"\boverdos\w*",
        r"\bnot (?:want|wanting) to (?:live|be alive|be here)\b",
        r"\bbetter off dead\b",
        r"\bkilling (?:himself|herself|themselves|themself|myself)\b",
        r"\b(?:end|ending) it all\b|\btak\w* (?:his|her|their|my) own life\b",
        r"\bcuts? (?:on|to|all over) (?:her|his|their|my|the) (?:child )?(?:arms?|wrists?|legs?|thighs?|body)\b",
        # Said slant, as children post it: "won't be here much longer", "better off without me".
        r"(?<!\bwe )(?<!\bthey )(?<!\byou )\b(?:will not|wont|am not going to|is not going to|isnt going to) be (?:here|around) (?:to \w+ (?:anyone|anybody|you|people|everyone) )?(?:much|any) longer\b",
        r"\b(?:be|been|are|is) better (?:off )?without me\b",
        r"\b(?:nobody|no one|noone|no body) (?:would|will|is going to|gonna) (?:teacher|miss|notice|care)\b.{0,25}\b(?:gone|dead|died|not here|disappeared)\b",
        r"\b(?:disappear|vanish) (?:forever|for good|for ever)\b",
        r"\bno (?:point|reason) (?:in )?(?:living|being alive|being here|going on|carrying on|waking up)\b",
        r"\b(?:goodbye|bye) (?:forever|for ever|world|cruel world)\b|\bthis is goodbye\b",
        r"\b(?:will not|wont) have to (?:post up with|put up with|deal with|worry about|see|hear from) me\b",
        r"\b(?:easier|better|happier) for (?:everyone|everybody|you all|all of you|us all|the family)\b.{0,30}\b(?:when|if) (?:i|im|i am|she|he|shes|hes)\b.{0,15}\b(?:not around|not here|gone|dead|not alive)\b",
        r"\bcare if (?:i|she|he|they) (?:was|were|is|are) (?:gone|dead|not here|not around)\b|\bcare if (?:i|she|he|they) died\b",
        r"\b(?:take|taking|took|swallow\w*|going to take) (?:all|a load|loads|a bunch|a handful|handfuls|a whole packet|the whole packet) (?:of )?(?:\w+ ){0,2}(?:tablets|pills|paracetamol|medicine|meds)\b",
        r"\bsorry for everything\b.{0,80}\b(?:goodbye|bye|anymore|any more|gone|no more|last)\b|\b(?:goodbye|bye) (?:everyone|everybody|all)\b.{0,80}\b(?:anymore|any more|for ever|forever|not be here|will not see me|wont see me)\b",
        r"\b(?:hed|shed|he would|she would|theyd|they would) rather (?:be )?(?:dead|die)\b",
        r"\bcuts?\b.{0,15}\b(?:up|on|to|over|along|across|down) (?:her|his|their|my|the) (?:child )?(?:fore ?arms?|arms?|wrists?|legs?|thighs?|stomach|tummy|body)\b",
    ),
    "sexual_abuse_or_grooming": (
        r"\bnudes?\b",
        r"\bnaked\b",
        r"\bsexual\w*|\bsexting\b|\bsex\b",
        r"\bgroom\w*",
        r"\bpaedo\w*|\bpedo\w*|\bpaedophil\w*|\bpedophil\w*",
        r"\bprivate parts\b",
        r"\btouch(?:ed|ing|es)? (?:her|him|them|my child|child)\b.{0,30}\b(?:inappropriat\w*|private|wrong|where)",
        r"\binappropriate(?:ly)? touch\w*",
        r"\b(?:send|sent|sending|asked for|ask for|asking for|wants) (?:a |some |more )?(?:photo|video)s? of (?:herself|himself|themselves|themself|her body|his body)\b",
        r"\b(?:send|sent|sending|showed|shown) (?:my |a |the )?(?:child|\d+\s?yearold)\b.{0,25}\b(?:inappropriate|rude|explicit|dirty|disgusting|sexual|porn\w*)",
        r"\b(?:inappropriate|rude|explicit|dirty|porn\w*) (?:photo|video|message|picture|image|content)\w*\b.{0,40}\b(?:child|\d+\s?yearold|yearold|year\s?\d)",
        r"\b(?:child|\d+\s?yearold|year\s?\d)\b.{0,40}\b(?:sent|send|shown|showed)\b.{0,30}\b(?:inappropriate|rude|explicit|dirty|porn\w*)",
        r"\bkeep (?:it|this|that|the chats?|their chats?|the messages?|messages|them|things) (?:a )?secret\b",
        r"\b(?:our|a|their|little) secret\b",
        r"\bmeet (?:up )?(?:with )?(?:him|her|them|a stranger|someone|in person)\b.{0,40}\b(?:online|internet|game|gaming|met on|chat)",
        r"\b(?:online|gaming|game|internet|roblox|fortnite|minecraft|snapchat|instagram|tiktok)\b.{0,60}\b(?:meet up|meet her|meet him|meet them|wants to meet|asked to meet|asking to meet)\b",
        r"\bexploit\w*",
        r"\bcse\b",
        r"\bblackmail\w*|\bsextort\w*",
        r"\bif (?:she|he|they|you) (?:does not|doesnt|do not|dont|will not|wont) send (?:more|another|any more|some more|worse|one)\b",
        r"\b(?:share|post|send|leak)\w* (?:her|his|their) (?:photo|video|picture)s? unless\b",
        r"\boffer\w* (?:my |a |the )?(?:child|her|him|them)\b.{0,20}\b(?:money|gifts?|vapes?|cash)\b",
        r"\b(?:money|cash|gifts?|vapes?)\b.{0,10}\bfor (?:photo|video|picture)s?\b",
        r"\bgiv\w* (?:him|her|them|my child)\b.{0,20}\b(?:money|cash|vapes?|gifts?|drugs|packages?|game money)\b",
        r"\bpackages? to (?:carry|deliver|hold)\b|\bcounty lines\b",
        r"\b(?:told|tells|telling|asked|asks) (?:him|her|them|my child) (?:not to|to not|never to) (?:tell|mention|say|show)\b",
        # An adult's gifts to a child: game credit, a phone, money ("the mate is about 19 and sends him Robux").
        r"\b(?:mate|friend|man|guy|bloke|lad|boy|child|someone|somebody|stranger)\b (?:who is |whos |is |hes |says (?:he|she) is |says (?:hes|shes) )?(?:about |aged |apparently |like |maybe |nearly |at least )?(?:1[89]|[2-9]\d)\b.{0,80}\b(?:send\w*|sent|buy\w*|bought|gave|giv\w*)\b (?:him|her|them|my child)\b.{0,30}\b(?:credit|robux|vbucks|money|cash|gift\w*|phone|presents?|vouchers?|clothes|trainers)\b",
        r"\bolder (?:friend|boyfriend|girlfriend|mate|man|guy|lad|child|boy|girl)s?\b.{0,60}\b(?:buy\w*|bought|gave|giv\w*|send\w*|sent)\b (?:her|him|them|my child)\b.{0,30}\b(?:credit|robux|vbucks|money|cash|gift\w*|phone|presents?|vouchers?|clothes|trainers|vapes?|drugs)\b",
        r"\bnew phone\b.{0,60}\b(?:sent|gave|given|bought)\b.{0,40}\b(?:mate|friend|man|someone|older|online|stranger)\b",
        r"\bwhat (?:she|he|they)(?:s| is| are) wearing\b",
        r"\b(?:where (?:he|she|they) lives?)\b.{0,40}\b(?:online|game|chat|stranger|someone)\b|\b(?:online|someone|stranger)\b.{0,60}\bwhere (?:he|she|they) lives?\b",
        r"\bup (?:my |her |a |the )?(?:child(?:s)? )?skirt\b",
        r"(?<!\bim a )(?<!\bi am a )(?<!\bas a )\bgrown (?:man|men|woman|adult)\b",  # not "I'm a grown man"
        r"\btouch(?:es|ed|ing)? (?:her|him|them|my child|child)\b",
        r"\b(?:sleep|sleeps|sleeping) in (?:his|her|their) bed\b",
    ),
    "adult_contacting_child": (
        rf"\b(?:man(?! (?:united|utd|city|u)\b)|men|stranger|adult|older \w+|grown up|guy|bloke)\b.{{0,60}}\b{_CONTACT}\b.{{0,40}}\b{_CHILD}\b",
        rf"\b{_CONTACT}\b.{{0,30}}\bmy (?:child|\d+\s?yearold)\b.{{0,50}}\b(?:late at night|privately|in private|secret\w*|at night|stranger|man|adult)\b",
        rf"\b(?:teacher|staff|someone who works at (?:the )?school|member of staff|coach|volunteer|\w+ from (?:the )?school)\b.{{0,40}}\b{_CONTACT}\b.{{0,40}}\b(?:my )?(?:child|pupils?)\b.{{0,40}}\b(?:privately|in private|late at night|at night|secret\w*|personal (?:account|mobile|number)|own (?:mobile|number|account))\b",
        r"\b(?:hang\w* (?:around|about)|loiter\w*|lurk\w*|waiting)\b.{0,40}\b(?:outside|near|by|round) (?:the )?(?:school|gates?|playground)\b",
        r"\b(?:strange|unknown|older) (?:man|men|woman|adult|\w+)\b.{0,40}\b(?:school gates?|outside school|near the school|playground)\b",
        r"\b(?:trying|tries|tried) to (?:talk to|speak to|approach|chat to|lure) (?:the )?child\b",
        r"\b(?:watch\w*|follow\w*|photograph\w*) (?:the )?child\b.{0,40}\b(?:home time|pick up|school|gates?|playground|park)\b",
        r"\b(?:teacher|staff|member of staff|coach|volunteer|someone who works at (?:the )?school)\b.{0,30}\b(?:has been|have been|is|keeps|kept|was|been|started)\b.{0,10}\b(?:messag\w*|text\w*|dm\w*|snapchat\w*|contact\w*|call\w*)\b.{0,30}\b(?:my child|child|pupils?|her|him)\b",
        r"\b(?:teacher|staff|member of staff|coach|volunteer)\b.{0,40}\b(?:gave|given|give)\b (?:my child|child|him|her|them|pupils?) (?:their|his|her) (?:personal |own )?(?:mobile|snapchat|instagram|email|number)\b",
        # An adult (by age or by word) wanting a child on camera, or in touch with a child they found online.
        rf"\b{_CONTACT}\b (?:her|him|them|my child|child)\b.{{0,40}}\b(?:video ?chat\w*|video ?call\w*|facetim\w*|camera on|webcam|on cam(?:era)?)\b",
        rf"\b(?:hes|he is|he s|shes|she is|who is|aged?|in (?:his|her) (?:[2-9]0s|twenties|thirties|forties|fifties)) (?:about |around |like |maybe |at least )?(?:[2-9]\d|[2-9]0s|twenties|thirties|forties|fifties)\b.{{0,120}}\b{_CONTACT}\b (?:her|him|them|my child)\b",
        r"\b(?:tried|trying|try) to (?:take|grab|snatch|lure|get)\b.{0,20}\b(?:child|her|him|them)\b.{0,20}\b(?:car|van|away|with him|with her)\b",
    ),
    "abuse_or_neglect": (
        r"\b(?:sexual|sexually|physical|physically|emotional|emotionally|child|domestic|domestically)(?:ly)? abus\w*",
        r"\b(?:being|been|was|is|getting|get) abused\b|\babus(?:es|ed|ing) (?:her|him|them|my child|child)\b",
        r"\bneglect\w*",
        r"\b(?:being|been|getting|get) (?:hit|hurt|beaten|beat|punched|kicked|slapped|smacked)\b.{0,40}\b(?:at home|home|by (?:his|her|their) (?:parent|dad|stepdad|relative|boyfriend|partner))\b",
        r"\b(?:hurt|hit|beaten) at home\b|\bviolence at home\b|\bchild\b.{0,20}\bbeing (?:hit|hurt|beaten)\b",
        r"\b(?:rough|violent|aggressive) with (?:his|her|their) (?:child|kids?)\b",
        r"\bdisclosed\b.{0,30}\b(?:home|abuse|something|to me|to (?:her|his) teacher)\b|\bmade a disclosure\b",
        r"\b(?:drunk|intoxicated|high|off (?:his|her|their) face)\b.{0,40}\b(?:collect\w*|pick\w* up|drove|driving|drive)\b",
        r"\b(?:home )?alone (?:all night|overnight|for days|every night)\b",
        r"\b(?:taken|sent|go|going) abroad\b.{0,30}\b(?:cut|married|marriage)\b|\bto be cut\b",
        r"\b(?:worried|concerned|scared|frightened) (?:about|for) (?:a |the |this |my )?(?:child|childs|kids?)(?:s)? safety\b|\bchilds? safety\b",
        r"\bsafeguardinglead\b.{0,30}\b(?:urgent\w*|now|asap|right away|immediately|today)\b|\burgent\w*\b.{0,30}\bsafeguardinglead\b",
        r"\b(?:hits|hit|beats|beat|beating|hitting|punch\w*|kick\w*|slap\w*|burn\w*|strangl\w*|chok\w*|hurts|hurting) (?:her|him|them|my child|the child|child)\b.{0,40}\b(?:home|at home|dad|parent|stepdad|stepmum|boyfriend|girlfriend|partner|uncle|relative)\b",
        r"\b(?:dad|parent|stepdad|stepmum|stepfather|stepmother|father|mother|boyfriend|girlfriend|partner|uncle|relative|carer)\b.{0,20}\b(?:hits|hit|beats|beat|hurts|hurt|punch\w*|kick\w*|slap\w*|burn\w*|strangl\w*|chok\w*|lock\w*)\b.{0,15}\b(?:her|him|them|child)\b",
        r"\b(?:teacher|staff|adult|coach|member of staff|tutor|childminder|babysitter|man|woman)\b.{0,20}\b(?:hits|hit|beats|beat|hurts|hurt|punch\w*|kick\w*|slap\w*|grab\w*|push\w*|shov\w*|smack\w*|strangl\w*|chok\w*)\b.{0,15}\b(?:her|him|them|child|my child)\b",
        r"\bbruis\w*|\bmarks on (?:her|his|their)\b|\bblack eye\b",
        r"\b(?:scared|afraid|frightened|terrified|doesnt want|does not want|refus\w*) (?:of going|to go|going) home\b",
        r"\bnot safe (?:at|to go) home\b|\bunsafe at home\b",
        r"\b(?:no|never any) food at home\b|\b(?:always|constantly) hungry\b|\bleft (?:home )?alone (?:all|for days|overnight|at night)\b",
        r"\bdomestic (?:violence|abuse)\b",
        r"\block\w* (?:her|him|them|my child|the child) (?:in|out|up)\b.{0,30}\b(?:shed|room|cupboard|garage|outside|overnight|all night|cellar|basement|loft)\b",
        r"\b(?:if|unless) (?:she|he|they) (?:tells?|tell tales|says? anything|grass\w*)\b.{0,60}\b(?:lock|hit|hurt|beat|smack|belt|punish)\w*",
        r"\bforced marriage\b|\bfgm\b|\bgenital mutilation\b",
        r"\bradicali[sz]\w*|\bextremis\w*",
    ),
    "violence_or_danger": (
        r"\b(?:knife|knives|blade|(?<!\bnerf )(?<!\btoy )(?<!\bwater )(?<!\bglue )(?<!\bsquirt )guns?|weapon\w*|machete)\b",
        r"\bstab\w*",
        r"\bthreat\w* to (?:kill|hurt|stab|shoot|beat|attack|harm)\b.{0,40}\b(?:child|her|him|them|pupils?|year\s?\d)\b",
        r"\b(?:going|gonna|said he would|said she would|says he will|says she will) (?:to )?(?:kill|stab|shoot)\b",
        r"\b(?:gone missing|is missing|went missing|has not come home|hasnt come home|not come home|ran away from home|run away from home|running away)\b",
        r"\b(?:immediate|in) danger\b",
        r"\bbeen (?:attacked|assaulted)\b|\bassault\w*",
        # A threat aimed at a child, or a child's whereabouts put online ("coming for her", "posted her address").
        r"\b(?:coming|come|going|gonna) (?:to )?(?:for|after|get) (?:her|him|them|my child|the child)\b",
        r"\b(?:post|share|put|leak)\w* (?:up )?(?:online )?(?:my |our |her |his |their |the )?(?:child |childs |child s )?(?:home )?address\b",
        r"\b(?:wants|want|needs|need|better|should|ought to|had better) (?:to )?watch (?:herself|himself|themselves|themself)\b",
        r"\b(?:i|we|they|he|she|someone|somebody|i will|ill) knows? where (?:she|he|they|you|the \w+(?: \w+){0,5}) lives?\b",
        # A stranger putting a child's name beside where they live or go to school.
        r"\b(?:comment\w*|repl\w*|post\w*|put|shar\w*|wrote|writ\w*|publish\w*|listed)\b.{0,60}\b(?:fullname|surname|real name)\b.{0,150}\b(?:road|street|estate|lane|avenue|address|postcode|where (?:we|he|she|they) lives?|(?:we|he|she|they) lives? on|(?:walks?|walking|goes|cycles?) home (?:alone|on (?:her|his|their) own|by (?:herself|himself)))\b",
        r"\bknows? (?:which|what) (?:bus|route|way|time|house|door|train|park) (?:she|he|they|(?:our |my |little )?\w+)(?: from (?:y\d|year\s?\d|\w+))? (?:gets?|takes?|goes|walks|catch\w*|lives|leaves|uses)\b",
        r"\bsomeone (?:should|needs to|ought to|is going to|will) teach (?:her|him|them|that child|the child) (?:a lesson|some manners|manners|respect)\b",
        # A carer threatening the children themselves ("I'll end it for all of us").
        r"\bend (?:it|everything) (?:all )?for (?:all of )?(?:us|them|us all|both of us|the child|my child|child)\b",
        r"\bbeaten up\b.{0,40}\b(?:video|filmed|shared|posted|badly)\b|\b(?:video|film)\w* of (?:a |the )?child\b.{0,20}\bbeing (?:beaten|attacked|hurt|hit)\b",
    ),
    # Warning signs a worried adult describes without naming the harm: asked about (unless the reading
    # agrees it is about a child's safety), never escalated on the words alone.
    "warning_signs": (
        r"\b(?:lines|scratches|marks|cuts|scars|burns)\b (?:on|all over|up|along|across|down) (?:her|his|their) (?:fore ?arms?|arms?|wrists?|legs?|thighs?|stomach|tummy)\b",
        r"\blong sleeves\b.{0,30}\b(?:warm|hot|summer|heat|sunny|pe)\b",
        r"\bgiv\w* away (?:all|most|loads|lots) (?:of )?(?:his|her|their) (?:things|stuff|games|toys|possessions|clothes|belongings|favourite\w*)\b",
        r"\bthinspo\w*|\bpro ?ana\b|\bpro ?mia\b|\banorexi\w*|\bbulimi\w*|\beating disorder\w*",
        r"\b(?:not|do not|dont|doesnt|does not) deserve to eat\b",
        r"\blost (?:a (?:stone|lot of weight)|(?:about |nearly |almost )?(?:a |two |\d+ ?)(?:stone|kg|kilos|pounds|lbs))\b.{0,100}\b(?:not eating|stopped eating|skip\w* (?:meals|lunch|breakfast|dinner)|dizz\w*|faint\w*)",
        r"\b(?:screams?|screaming|cries|crying|panics?|shakes|shaking|terrified|petrified|begs?|begging)\b.{0,40}\b(?:time to go|not to go|go (?:there|back)|going (?:there|back))\b",
    ),
}

# One alternation per category: a single scan of the text instead of one per pattern (4x faster on long messages).
_COMPILED = {name: re.compile("|".join(f"(?:{p})" for p in pats)) for name, pats in _PATTERNS.items()}

# Policy questions that merely mention a risky word ("is it abuse to post a photo?")
# must not be escalated; these read as rule questions, not reports.
_RULE_QUESTION = re.compile(
    r"^(?:what|is it|are we|am i|can i|can we|may i|should i|should we|do we|does the policy|what is the rule)\b"
    r".{0,80}\b(?:policy|rule|allow\w*|okay|acceptable|appropriate)\b"
)


@dataclass(frozen=True)
class SafetyFinding:
    """Why a message was judged urgent: the risk category, never the message text."""

    category: str


def screen(text: str) -> SafetyFinding | None:
    """Return a finding when the message suggests a child may be at risk."""
    canonical = " ".join(words(text))
    if not canonical:
        return None
    for category, pattern in _COMPILED.items():
        if pattern.search(canonical):
            if category != "self_harm" and _RULE_QUESTION.search(canonical) and not _names_a_child(canonical):
                continue
            return SafetyFinding(category)
    return None


def _names_a_child(canonical: str) -> bool:
    return bool(re.search(r"\bmy (?:child|\d+\s?yearold)\b|\b(?:he|she) (?:said|told|says)\b", canonical))
