from services.events.domain.render import custom_data, decode_custom_data, event_json
from services.events.tests.unit.factories import event_record


def test_finished_event_json_has_every_key_in_go_order() -> None:
    doc = event_record()
    out = event_json(doc)
    assert list(out) == [
        "ID", "UniqueID", "StartTime", "EndTime", "Target", "ExtraTargets", "StartCustomData",
        "EndCustomData", "OtherCustomData", "Kind", "Owner", "LockUpdateTime", "Error", "Log",
        "StructuredLog", "CancelInfo", "Cancelable", "Running", "Allowed", "AllowedCancel",
        "Instance",
    ]  # fmt: skip
    hexid = doc.unique_id
    assert out["ID"] == {"Target": {"Type": "", "Value": ""}, "ObjId": hexid}
    assert out["UniqueID"] == hexid
    assert out["StartTime"] == "2021-05-17T12:00:00.123Z"
    assert out["EndTime"] == "2021-05-17T12:00:02.123Z"
    assert out["ExtraTargets"] is None and out["StructuredLog"] is None
    assert out["EndCustomData"] == {"Kind": 0, "Data": None}
    assert out["CancelInfo"]["StartTime"] == "0001-01-01T00:00:00Z"
    assert out["Allowed"] == {
        "Scheme": "app.read.events",
        "Contexts": [{"CtxType": "team", "Value": "myteam"}, {"CtxType": "app", "Value": "myapp"}],
    }
    assert out["AllowedCancel"] == {"Scheme": "", "Contexts": []}
    assert out["Instance"]["Addresses"] == []


def test_running_locking_event_id_names_its_target() -> None:
    out = event_json(event_record(running=True))
    assert out["ID"] == {"Target": {"Type": "app", "Value": "myapp"}, "ObjId": ""}
    out = event_json(event_record(running=True, lock=False))
    assert out["ID"]["ObjId"] == out["UniqueID"]


def test_custom_data_is_real_bson_like_tsurus_example() -> None:
    data = [{"name": ":app", "value": "myapp"}, {"name": "Envs.0.Name", "value": "FOO"}]
    assert custom_data(data) == {
        "Kind": 4,
        "Data": "WgAAAAMwACUAAAACbmFtZQAFAAAAOmFwcAACdmFsdWUABgAAAG15YXBwAAADMQAqAAAAAm5hbWUADAAAAEVudnMuMC5OYW1lAAJ2YWx1ZQAEAAAARk9PAAAA",
    }
    assert custom_data({"image": "v1"})["Kind"] == 3
    assert decode_custom_data(custom_data({"image": "v1"})) == {"image": "v1"}
    assert decode_custom_data(custom_data(data)) == data


def test_extra_targets_and_log() -> None:
    from services.events.tests.unit.factories import T0

    out = event_json(
        event_record(
            extratargets=[{"target": {"type": "app", "value": "b"}, "lock": True}],
            structuredlog=[{"date": T0, "message": "hi\n"}],
        )
    )
    assert out["ExtraTargets"] == [{"Target": {"Type": "app", "Value": "b"}, "Lock": True}]
    assert out["StructuredLog"] == [{"Date": "2021-05-17T12:00:00.123Z", "Message": "hi\n"}]
