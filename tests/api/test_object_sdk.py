"""openstacksdk's object_store proxy (and its cloud layer) against onestack:
the catalog's object-store endpoint, containers, objects, metadata."""

import hashlib
import os

import openstack
import pytest
from openstack import exceptions as sdk_exc

from conftest import unique


def connect(cloud, **overrides):
    args = dict(auth_url=cloud.auth_url, username=cloud.username,
                password=cloud.password, project_name=cloud.project_name,
                user_domain_name='Default', project_domain_name='Default',
                region_name=cloud.region, interface='public',
                identity_api_version='3',
                load_yaml_config=False, load_envvars=False)
    args.update(overrides)
    return openstack.connect(**args)


@pytest.fixture(scope='module')
def conn(cloud):
    c = connect(cloud)
    yield c
    c.close()


def test_endpoint_comes_from_the_catalog(conn, cloud):
    assert conn.object_store.get_endpoint().rstrip('/') == cloud.object_url()
    meta = conn.object_store.get_account_metadata()
    assert meta.account_container_count is not None


def test_container_object_lifecycle(conn):
    c = unique('sdk')
    container = conn.object_store.create_container(name=c)
    assert container.name == c
    assert c in [x.name for x in conn.object_store.containers()]

    data = os.urandom(4096)
    obj = conn.object_store.upload_object(container=c, name='dir/blob.bin', data=data)
    assert obj.name == 'dir/blob.bin'
    conn.object_store.upload_object(container=c, name='small.txt', data=b'small')
    conn.object_store.upload_object(container=c, name='empty', data=b'')

    assert conn.object_store.download_object('dir/blob.bin', container=c) == data
    assert conn.object_store.download_object('empty', container=c) == b''
    streamed = b''.join(conn.object_store.stream_object('dir/blob.bin', container=c,
                                                        chunk_size=1000))
    assert streamed == data

    head = conn.object_store.get_object_metadata('dir/blob.bin', container=c)
    assert head.content_length == 4096
    assert head.etag == hashlib.md5(data).hexdigest()
    assert head.content_type == 'application/octet-stream'

    listed = {o.name: o for o in conn.object_store.objects(c)}
    assert sorted(listed) == ['dir/blob.bin', 'empty', 'small.txt']
    assert listed['small.txt'].content_length == 5
    assert listed['small.txt'].etag == hashlib.md5(b'small').hexdigest()
    assert [o.name for o in conn.object_store.objects(c, prefix='dir/')] == ['dir/blob.bin']

    info = conn.object_store.get_container_metadata(c)
    assert info.object_count == 3
    assert info.bytes_used == 4096 + 5

    # A non-empty container cannot be deleted.
    with pytest.raises(sdk_exc.ConflictException):
        conn.object_store.delete_container(c, ignore_missing=False)
    for name in listed:
        conn.object_store.delete_object(name, container=c, ignore_missing=False)
    with pytest.raises(sdk_exc.ResourceNotFound):
        conn.object_store.delete_object('small.txt', container=c, ignore_missing=False)
    with pytest.raises(sdk_exc.ResourceNotFound):
        conn.object_store.download_object('small.txt', container=c)
    conn.object_store.delete_container(c, ignore_missing=False)
    assert c not in [x.name for x in conn.object_store.containers()]


def test_metadata(conn):
    c = unique('sdk')
    conn.object_store.create_container(name=c)
    conn.object_store.upload_object(container=c, name='o', data=b'meta')

    conn.object_store.set_object_metadata('o', container=c, color='blue', size='big')
    obj = conn.object_store.get_object_metadata('o', container=c)
    assert obj.metadata['color'] == 'blue'
    assert obj.metadata['size'] == 'big'
    conn.object_store.delete_object_metadata('o', container=c, keys=['size'])
    obj = conn.object_store.get_object_metadata('o', container=c)
    assert obj.metadata.get('color') == 'blue'
    assert 'size' not in obj.metadata
    # The content is untouched by metadata changes.
    assert conn.object_store.download_object('o', container=c) == b'meta'

    conn.object_store.set_container_metadata(c, owner='tests', read_ACL='.r:*')
    info = conn.object_store.get_container_metadata(c)
    assert info.metadata['owner'] == 'tests'
    assert info.read_ACL == '.r:*'
    conn.object_store.delete_container_metadata(c, keys=['owner'])
    assert 'owner' not in conn.object_store.get_container_metadata(c).metadata

    key = 'sdk' + unique('k').replace('-', '')
    conn.object_store.set_account_metadata(**{key: 'yes'})
    assert conn.object_store.get_account_metadata().metadata[key] == 'yes'
    conn.object_store.delete_account_metadata([key])
    assert key not in conn.object_store.get_account_metadata().metadata


def test_cloud_layer_create_object_from_file(conn, tmp_path):
    c = unique('sdk')
    conn.create_container(c)
    path = tmp_path / 'upload.bin'
    data = os.urandom(300 * 1024)
    path.write_bytes(data)
    conn.create_object(c, 'from-file.bin', filename=str(path),
                       metadata={'origin': 'file'})
    out = tmp_path / 'out.bin'
    headers = conn.get_object(c, 'from-file.bin', outfile=str(out))[0]
    assert out.read_bytes() == data
    assert headers['x-object-meta-origin'] == 'file'
    # The SDK records its own checksums and skips an identical re-upload.
    assert headers['x-object-meta-x-sdk-md5'] == hashlib.md5(data).hexdigest()
    assert conn.is_object_stale(c, 'from-file.bin', str(path)) is False
    names = [o['name'] for o in conn.list_objects(c)]
    assert names == ['from-file.bin']
    assert conn.delete_object(c, 'from-file.bin') is True
    assert conn.delete_object(c, 'from-file.bin') is False
    conn.delete_container(c)


def test_segmented_upload(conn, tmp_path):
    """upload_object with a segment size: the SDK writes an SLO. (The cloud
    layer's create_object drops segment_size in this SDK version.)"""
    c = unique('sdk')
    conn.create_container(c)
    path = tmp_path / 'big.bin'
    data = os.urandom(5 * 1024 * 1024 + 99)
    path.write_bytes(data)
    conn.object_store.upload_object(c, 'big.bin', filename=str(path), segment_size=1024 * 1024)
    out = tmp_path / 'out.bin'
    headers = conn.get_object(c, 'big.bin', outfile=str(out))[0]
    assert hashlib.md5(out.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    assert headers.get('x-static-large-object', '').lower() == 'true'
    conn.delete_object(c, 'big.bin')


def test_another_project_sees_nothing(conn, cloud):
    user = cloud.object_user('member')
    other = connect(cloud, username=user['user']['name'], password=user['password'],
                    project_name=user['project']['name'])
    try:
        assert list(other.object_store.containers()) == []
        assert other.object_store.get_endpoint().rstrip('/') == cloud.object_url(
            user['project_id'])
        c = unique('sdk')
        conn.object_store.create_container(name=c)
        conn.object_store.upload_object(container=c, name='private', data=b'mine')
        # The same container name in the other account is another container.
        with pytest.raises(sdk_exc.ResourceNotFound):
            other.object_store.download_object('private', container=c)
        other.object_store.create_container(name=c)
        other.object_store.upload_object(container=c, name='theirs', data=b'theirs')
        assert [o.name for o in conn.object_store.objects(c)] == ['private']
        assert [o.name for o in other.object_store.objects(c)] == ['theirs']
    finally:
        other.close()
