import uuid

from lamina import ids


def test_ids_are_unique_version_4_uuids():
    made = [ids.uuid4() for _ in range(5000)]
    assert len(set(made)) == 5000
    for text in made[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    hexes = {ids.hex32() for _ in range(1000)}
    assert len(hexes) == 1000 and all(len(h) == 32 and uuid.UUID(h).version == 4 for h in hexes)
