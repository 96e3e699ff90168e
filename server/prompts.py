"""MCP prompts: how to write for Seedance, offered to the user as ready-made requests."""

from __future__ import annotations

from typing import Annotated, Literal, get_args, get_origin, get_type_hints

from mcp.server.mcpserver.prompts import Prompt
from pydantic import Field

from server.catalog import DEFAULT_MODEL, AspectRatio, Model, Resolution

CRAFT = """\
Write one Seedance 2.0 prompt for this idea: {idea}

A strong Seedance prompt is a short paragraph that names, in this order:
1. Subject: who or what, with the details that make it specific (age, clothing, material, colour).
2. Action: what happens over the clip, as verbs in sequence; one main action for 4-6 s, two or three beats for longer.
3. Camera: shot size and movement in film language - wide / medium / close-up; slow push-in, dolly out, pan left, \
tilt up, orbit, tracking shot, handheld; a cut is written "Cut to: ...".
4. Light and look: time of day, light source and direction, colour palette, lens or film stock, style.
5. Sound: ambience, effects and music, since audio is generated with the picture.
6. Dialogue, if any, in double quotes after who says it, e.g. The captain says: "Hold the line." Keep lines short \
enough to be spoken in the clip.

Then call estimate_cost for the duration and resolution you suggest, tell the user the price, and call \
generate_text_video (or animate_image if they gave a start image) once they agree."""

REFERENCE = """\
Write one Seedance 2.0 reference-to-video prompt for this idea: {idea}

The call will pass {images} image(s), {videos} video(s) and {audios} audio clip(s). Name each one in the prompt \
by kind and position, counting from 1 in its own list: {names}. A reference the prompt never names may be ignored.
- Images carry who and what: a character's face and outfit, a product, a place, a style.
- Videos carry how it moves: choreography, camera work, timing; to edit or extend a clip, say what changes and \
what stays ("keep the original motion").
- Audio carries rhythm, music or a voice; audio needs at least one image or video beside it.
Example: "The dancer from @Image1 performs the routine from @Video1 on a rooftop at dusk, cut to the beat of \
@Audio1; slow orbit, warm rim light."
Reference videos are billed too (their seconds are added to the clip's, at 0.6x the rate): call estimate_cost \
with reference_video_seconds before reference_video."""

STORYBOARD = """\
Make a short film of this idea, shot by shot: {idea}

Plan it as {shots} shots of {seconds} s each ({total} s in all). One Seedance clip lasts at most 15 s (30 s \
on seedance-2.5), so a longer story is several shots joined.
1. Plan. Write the shot list first: for each shot, one Seedance prompt (subject, action, camera, light, sound). \
Keep the look consistent: describe the main character, place and light in the same words in every shot, and start \
each shot from the picture the one before ended on.
Make every shot with {look}.
2. Price. Call estimate_cost for one shot at the duration and resolution you plan and multiply by {shots}; tell \
the user the total before anything is generated, and go on only once they agree.
   With model "seedance-2.5", work in drafts: make each shot with draft=true (a 480p take, priced as 480p), \
look at the takes with the user, then finish only the chosen ones with complete_draft (1080p, the same take; \
each draft's result gives that price), and join the finished shots. Price both steps up front.
3. Shot 1: generate_text_video, or animate_image with a reference image if the user gave one.
4. Check it: call inspect_video with its request_id. Compare the motion with the prompt and look at the last \
frame; if it went wrong, fix the prompt and make the shot again before moving on.
5. Each next shot: animate_image with image_url="seedance://jobs/<previous request_id>/frames/last" and that \
shot's prompt, so it starts where the last one ended. Inspect it too.
6. Join: call make_film with every shot's request_id in order (transition "cut", or "fade" for a gentler join), \
then tell the user where the film is saved and what the shots cost together."""


def reference_names(images: int, videos: int, audios: int) -> list[str]:
    return (
        [f"@Image{i}" for i in range(1, images + 1)]
        + [f"@Video{i}" for i in range(1, videos + 1)]
        + [f"@Audio{i}" for i in range(1, audios + 1)]
    )


Images = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
Clips = Literal["0", "1", "2", "3"]


def seedance_prompt(
    idea: Annotated[str, Field(min_length=1, description="The video you have in mind, in any words.")],
) -> str:
    """Turn an idea into a strong Seedance 2.0 prompt: subject, action, camera, light, sound, dialogue."""
    return CRAFT.format(idea=idea)


def reference_prompt(
    idea: Annotated[str, Field(min_length=1, description="What the video should show, in any words.")],
    images: Annotated[Images, Field(description='How many reference images: "0" to "9".')] = "1",
    videos: Annotated[Clips, Field(description='How many reference videos: "0" to "3".')] = "0",
    audios: Annotated[Clips, Field(description='How many reference audio clips: "0" to "3".')] = "0",
) -> str:
    """Write a reference-to-video prompt that names every reference as @Image1, @Video1, @Audio1."""
    counts = [int(images), int(videos), int(audios)]
    names = ", ".join(reference_names(*counts)) or "(no references yet)"
    return REFERENCE.format(idea=idea, images=counts[0], videos=counts[1], audios=counts[2], names=names)


Shots = Literal["2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
ShotSeconds = Literal["4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"]


def storyboard(
    idea: Annotated[str, Field(min_length=1, description="The story or scene the film should tell.")],
    shots: Annotated[Shots, Field(description='How many shots: "2" to "12".')] = "4",
    seconds_per_shot: Annotated[ShotSeconds, Field(description='Each shot\'s length: "4" to "15" seconds.')] = "5",
    model: Annotated[Model, Field(description="The Seedance model for every shot.")] = DEFAULT_MODEL,
    resolution: Annotated[Resolution, Field(description="Every shot's resolution, as the model takes it.")] = "720p",
    aspect_ratio: Annotated[AspectRatio, Field(description="The frame shape of every shot.")] = "16:9",
) -> str:
    """Plan and make a multi-shot film: shot list, price first, each shot from the last frame, then make_film."""
    total = int(shots) * int(seconds_per_shot)
    look = f'model="{model}", resolution="{resolution}", aspect_ratio="{aspect_ratio}"'
    return STORYBOARD.format(idea=idea, shots=shots, seconds=seconds_per_shot, total=total, look=look)


def choices(prompt: Prompt) -> dict[str, tuple[str, ...]]:
    """The values each of a prompt's arguments takes, where they are a fixed list: what completion offers."""
    hints = get_type_hints(prompt.fn, include_extras=True)
    found = {}
    for name, hint in hints.items():
        kind = get_args(hint)[0] if get_origin(hint) is Annotated else hint
        if get_origin(kind) is Literal:
            found[name] = tuple(str(value) for value in get_args(kind))
    return found


# Prompt arguments are strings on the wire; the server's argument check holds them to these types first.
PROMPTS = [
    Prompt.from_function(seedance_prompt, title="Write a Seedance video prompt"),
    Prompt.from_function(reference_prompt, title="Write a Seedance reference-to-video prompt"),
    Prompt.from_function(storyboard, title="Plan and make a multi-shot film"),
]
