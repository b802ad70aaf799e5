#!/usr/bin/env python3
"""The deployed shape, locally: moto's S3/SQS/DynamoDB, the function binaries under
cargo-lambda's Runtime API emulator, and an event-source pump between them.

Everything it creates is read from infra/template.yaml, the template SAM deploys, so the
two cannot drift: the buckets (versioning, encryption, public access block, lifecycle,
the S3 -> SQS notification for inbox/), the queues (visibility timeout, redrive to the
dead-letter queues), the table (keys, GSI1, PITR, time to live) and the functions (binary,
environment, timeout, SQS event sources with batch size, batching window and
ReportBatchItemFailures). What moto cannot emulate (IAM, KMS key policies, log groups,
alarms, schedules) is named on start-up, with the reason. A function packaged as an
image (the OCR function: Debian with Tesseract) runs as its binary here, against this
machine's Tesseract (scripts/install-ocr), not in its container (no Docker here).

A function that an HTTP API invokes (the console) is served directly instead: its
binary in its own listen mode on a free loopback port (POSTROOM_CONSOLE_LISTEN), with the
template's environment and the console's address as its origin. API Gateway and Cognito
are not emulated (moto's are not used here): the console signs people in with a token
(POSTROOM_CONSOLE_TOKEN, made at start), which the state file gives with its URL.

The pump does what Lambda's SQS event source mapping does: it long-polls each queue for
up to BatchSize messages (waiting up to the batching window), invokes the function with
the SQS event, deletes the messages that succeeded, and leaves the ones reported in
batchItemFailures (or the whole batch, if the invocation failed) to come back after the
visibility timeout; moto moves a message to the dead-letter queue after maxReceiveCount.

Usage:
  scripts/local-stack [--endpoint URL] [--stage NAME] [--param NAME=VALUE ...]
                      [--state-file PATH] [--bin-dir DIR]

Without --endpoint it starts its own moto server. Once everything is up it writes the
state file (JSON: endpoint, names, queue URLs, the emulator's invoke URL, the console's
URL and sign-in token) and runs until
it is stopped (Ctrl-C or SIGTERM), stopping everything it started. Run it with the
.venv Python that scripts/test creates (boto3 and PyYAML come with moto); scripts/test
runs it for the end-to-end test (tests/it/local_stack.rs).
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import boto3
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "123456789012"  # moto's default account
CARGO_LAMBDA_VERSION = "1.9.2"

# ------------------------------------------------------------------ the template


class Tag:
    """A CloudFormation short-form intrinsic (!Ref, !Sub, !GetAtt, ...)."""

    def __init__(self, name, value):
        self.name, self.value = name, value


def load_template(path):
    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return Tag(suffix, value)

    Loader.add_multi_constructor("!", construct)
    with open(path) as f:
        return yaml.load(f, Loader=Loader)


class Stack:
    """Resolves the template's intrinsics for the resources this script creates."""

    def __init__(self, template, params, region):
        self.t = template
        self.region = region
        self.params = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
        self.params.update(params)
        self.physical = {}  # logical id -> what Ref gives
        self.arns = {}  # logical id -> ARN

    def resources(self, kind):
        return [(k, v) for k, v in self.t["Resources"].items() if v["Type"] == kind]

    def ref(self, name):
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::StackName": f"{self.params.get('NamePrefix')}-{self.params.get('Stage')}",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.params:
            return str(self.params[name])
        if name in self.physical:
            return self.physical[name]
        raise KeyError(f"!Ref {name} before it exists")

    def getatt(self, logical, attr):
        if attr == "Arn" and logical in self.arns:
            return self.arns[logical]
        raise KeyError(f"!GetAtt {logical}.{attr} before it exists")

    def sub(self, text, extra=None):
        out, i = [], 0
        while i < len(text):
            j = text.find("${", i)
            if j < 0:
                out.append(text[i:])
                break
            k = text.index("}", j)
            out.append(text[i:j])
            name = text[j + 2 : k]
            if extra and name in extra:
                out.append(str(self.resolve(extra[name])))
            elif "." in name:
                out.append(self.getatt(*name.split(".", 1)))
            else:
                out.append(self.ref(name))
            i = k + 1
        return "".join(out)

    def resolve(self, v):
        if isinstance(v, Tag):
            if v.name == "Ref":
                return self.ref(v.value)
            if v.name == "GetAtt":
                parts = v.value.split(".", 1) if isinstance(v.value, str) else v.value
                return self.getatt(*parts)
            if v.name == "Sub":
                if isinstance(v.value, list):
                    return self.sub(v.value[0], v.value[1])
                return self.sub(v.value)
            raise KeyError(f"!{v.name} is not resolved locally")
        if isinstance(v, dict):
            if len(v) == 1:
                (key, inner), = v.items()
                if key in ("Ref", "Fn::GetAtt", "Fn::Sub"):
                    return self.resolve(Tag(key.replace("Fn::", ""), inner))
            return {k: self.resolve(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.resolve(x) for x in v]
        return v


# ------------------------------------------------------------------ the resources


def log(*parts):
    print("local-stack:", *parts, flush=True)


def create_resources(stack, session, endpoint):
    kms = session.client("kms", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    skipped = []

    for logical, res in stack.resources("AWS::KMS::Key"):
        key = kms.create_key(Description=stack.resolve(res["Properties"].get("Description", logical)))
        stack.physical[logical] = key["KeyMetadata"]["KeyId"]
        stack.arns[logical] = key["KeyMetadata"]["Arn"]

    # Queues: dead-letter queues first (a redrive policy names its target's ARN).
    pending = dict(stack.resources("AWS::SQS::Queue"))
    queues = {}
    while pending:
        progressed = False
        for logical, res in list(pending.items()):
            try:
                props = stack.resolve(res["Properties"])
            except KeyError:
                continue
            attrs = {}
            for name in ("VisibilityTimeout", "MessageRetentionPeriod", "KmsMasterKeyId", "DelaySeconds"):
                if name in props:
                    attrs[name] = str(props[name])
            for name in ("FifoQueue", "ContentBasedDeduplication"):
                if name in props:
                    attrs[name] = "true" if props[name] else "false"
            if "RedrivePolicy" in props:
                attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attrs)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            stack.physical[logical], stack.arns[logical] = url, arn
            queues[logical] = {"url": url, "arn": arn, "name": props["QueueName"], "attributes": attrs}
            del pending[logical]
            progressed = True
        if not progressed:
            raise SystemExit(f"local-stack: queues with unresolvable properties: {sorted(pending)}")

    tables = {}
    for logical, res in stack.resources("AWS::DynamoDB::Table"):
        props = stack.resolve(res["Properties"])
        args = {
            "TableName": props["TableName"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "DeletionProtectionEnabled" in props:
            args["DeletionProtectionEnabled"] = props["DeletionProtectionEnabled"]
        ddb.create_table(**args)
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=props["TableName"],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(
                TableName=props["TableName"],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
            )
        if "SSESpecification" in props:
            skipped.append(f"{logical}.SSESpecification (moto stores items unencrypted)")
        stack.physical[logical] = props["TableName"]
        stack.arns[logical] = f"arn:aws:dynamodb:{stack.region}:{ACCOUNT}:table/{props['TableName']}"
        tables[logical] = props["TableName"]

    buckets = {}
    for logical, res in stack.resources("AWS::S3::Bucket"):
        props = stack.resolve(res["Properties"])
        name = props["BucketName"]
        args = {"Bucket": name}
        if stack.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": stack.region}
        s3.create_bucket(**args)
        stack.physical[logical], stack.arns[logical] = name, f"arn:aws:s3:::{name}"
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                    **({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}),
                }
                for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "LifecycleConfiguration" in props:
            rules = []
            for r in props["LifecycleConfiguration"]["Rules"]:
                rule = {"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")}}
                if "ExpirationInDays" in r:
                    rule["Expiration"] = {"Days": r["ExpirationInDays"]}
                if "NoncurrentVersionExpiration" in r:
                    rule["NoncurrentVersionExpiration"] = {
                        "NoncurrentDays": r["NoncurrentVersionExpiration"]["NoncurrentDays"]
                    }
                if "AbortIncompleteMultipartUpload" in r:
                    rule["AbortIncompleteMultipartUpload"] = r["AbortIncompleteMultipartUpload"]
                rules.append(rule)
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        buckets[logical] = name

    # Notifications last: they name queues, and S3 checks that the queue exists.
    for logical, res in stack.resources("AWS::S3::Bucket"):
        props = stack.resolve(res["Properties"])
        notif = props.get("NotificationConfiguration")
        if not notif:
            continue
        config = {"QueueConfigurations": []}
        for q in notif.get("QueueConfigurations", []):
            entry = {"QueueArn": q["Queue"], "Events": [q["Event"]]}
            rules = q.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
            config["QueueConfigurations"].append(entry)
        s3.put_bucket_notification_configuration(Bucket=props["BucketName"], NotificationConfiguration=config)

    for kind, why in (
        ("AWS::IAM::Role", "moto does not enforce IAM; the roles are checked by checkov and cfn-lint"),
        ("AWS::S3::BucketPolicy", "moto serves plain HTTP on loopback; the TLS-only policy cannot apply"),
        ("AWS::SQS::QueuePolicy", "moto's S3 notifications are not authorised by policy"),
        ("AWS::KMS::Alias", "nothing local looks keys up by alias"),
        ("AWS::Logs::LogGroup", "the functions log to files beside the state file"),
        ("AWS::CloudWatch::Alarm", "no metrics locally; the end-to-end test checks the queues instead"),
        ("AWS::SNS::Topic", "alarms only"),
        ("AWS::SNS::Subscription", "alarms only"),
        # moto's API Gateway and Cognito are not used here: the console is served on
        # loopback directly and signs people in with a token.
        ("AWS::Serverless::HttpApi", "the console is served directly on loopback"),
        ("AWS::Lambda::Permission", "nothing invokes the console through API Gateway locally"),
        ("AWS::Cognito::UserPool", "the console signs people in with POSTROOM_CONSOLE_TOKEN locally"),
        ("AWS::Cognito::UserPoolDomain", "no Cognito locally"),
        ("AWS::Cognito::UserPoolClient", "no Cognito locally"),
        ("AWS::Cognito::UserPoolGroup", "the console's token signs in with every role locally"),
        # The search functions' VPC and file system: their mount is a folder here.
        ("AWS::EC2::VPC", "the functions run as local processes"),
        ("AWS::EC2::Subnet", "no VPC locally"),
        ("AWS::EC2::RouteTable", "no VPC locally"),
        ("AWS::EC2::SubnetRouteTableAssociation", "no VPC locally"),
        ("AWS::EC2::SecurityGroup", "no VPC locally"),
        ("AWS::EC2::SecurityGroupEgress", "no VPC locally"),
        ("AWS::EC2::VPCEndpoint", "the functions reach moto directly"),
        ("AWS::EFS::FileSystem", "a function's EFS mount is a folder beside the state file"),
        ("AWS::EFS::MountTarget", "no EFS locally"),
        ("AWS::EFS::AccessPoint", "its folder is made beside the state file"),
    ):
        for logical, _ in stack.resources(kind):
            skipped.append(f"{logical} ({why})")
    return {"queues": queues, "tables": tables, "buckets": buckets}, skipped


def after_deploy(bin_dir, endpoint, region, created):
    """What infra/README.md has an operator run once after the first deploy: `postroom
    --backend aws cases relist` (every case in the cases list; nothing to relist on a new
    stack, but it records that it ran, which the claims statistics check)."""
    exe = os.path.join(bin_dir, "postroom")
    if not os.path.exists(exe):
        raise SystemExit(f"local-stack: {exe} is missing; build it with `cargo build --bin postroom`")
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": region,
            "POSTROOM_TABLE": created["tables"]["Table"],
            "POSTROOM_BUCKET": created["buckets"]["DocumentsBucket"],
        }
    )
    done = subprocess.run(
        [exe, "--backend", "aws", "cases", "relist"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"local-stack: postroom cases relist failed: {done.stderr.strip()}")
    log(f"after deploy: postroom cases relist: {done.stdout.strip()}")


def http_served(stack):
    """The names of the functions an HTTP API invokes: named in its OpenAPI body's
    integrations (by ARN, `...:function:<name>/invocations`)."""
    names = set()

    def integrations(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "x-amazon-apigateway-integration" and isinstance(value, dict):
                    yield value.get("uri")
                else:
                    yield from integrations(value)
        elif isinstance(node, list):
            for value in node:
                yield from integrations(value)

    for _, res in stack.resources("AWS::Serverless::HttpApi"):
        for uri in integrations(res["Properties"].get("DefinitionBody", {})):
            try:
                uri = str(stack.resolve(uri))
            except KeyError:
                continue
            if ":function:" in uri:
                names.add(uri.split(":function:", 1)[1].split("/", 1)[0].split(":", 1)[0])
    return names


def binary_of(res):
    """A function's binary: a zip function's BuildProperties.Binary; an image function's
    package (its Dockerfile's PACKAGE build argument: the OCR function), which runs here
    natively, against this machine's Tesseract (scripts/install-ocr), not in its image."""
    meta = res.get("Metadata", {})
    if res["Properties"].get("PackageType") == "Image":
        return meta["DockerBuildArgs"]["PACKAGE"]
    return meta["BuildProperties"]["Binary"]


def functions_of(stack):
    """Each function: its binary, environment, timeout and event sources. A function an
    HTTP API invokes is marked `http`; its settings that name what is not emulated here
    (the API's address, Cognito's issuer and client) are left out and listed."""
    glob = stack.t.get("Globals", {}).get("Function", {})
    served = http_served(stack)
    out = {}
    # What !Ref and !GetAtt give of a function, for the others' environment (the search
    # function the console invokes): its binary, the name cargo-lambda's emulator knows
    # it by (the emulator takes only the project's binaries as function names).
    for logical, res in stack.resources("AWS::Serverless::Function"):
        name = binary_of(res)
        stack.physical[logical] = name
        stack.arns[logical] = f"arn:aws:lambda:{stack.region}:{ACCOUNT}:function:{name}"
    for logical, res in stack.resources("AWS::Serverless::Function"):
        props = res["Properties"]
        name = stack.resolve(props["FunctionName"])
        http = name in served or any(
            ev.get("Type") == "HttpApi" for ev in props.get("Events", {}).values()
        )
        env = dict(stack.resolve(glob.get("Environment", {}).get("Variables", {})))
        unresolved = []
        for key, value in props.get("Environment", {}).get("Variables", {}).items():
            try:
                env[key] = stack.resolve(value)
            except KeyError:
                if not http:
                    raise
                unresolved.append(key)
        sources, schedules = [], []
        for ev_name, ev in props.get("Events", {}).items():
            p = ev.get("Properties", {})
            if ev["Type"] == "SQS":
                queue_arn = stack.resolve(p["Queue"])
                sources.append(
                    {
                        "event": ev_name,
                        "queue_arn": queue_arn,
                        "batch_size": int(p.get("BatchSize", 10)),
                        "window": int(p.get("MaximumBatchingWindowInSeconds", 0)),
                        "report_failures": "ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
                    }
                )
            elif ev["Type"] in ("Schedule", "ScheduleV2"):
                schedules.append({"event": ev_name, "expression": stack.resolve(p.get("ScheduleExpression"))})
        out[logical] = {
            "name": name,
            "http": http,
            "unresolved": unresolved,
            "binary": binary_of(res),
            "env": {k: str(v) for k, v in env.items()},
            "timeout": int(stack.resolve(props.get("Timeout", glob.get("Timeout", 3)))),
            "memory": int(props.get("MemorySize", glob.get("MemorySize", 128))),
            "sources": sources,
            "schedules": schedules,
            # EFS mounts: (access point's logical id, the path the function sees).
            "mounts": [
                (access_point_of(fs["Arn"]), fs["LocalMountPath"])
                for fs in props.get("FileSystemConfigs", [])
            ],
        }
    return out


def access_point_of(arn):
    """The logical id of the access point a FileSystemConfigs entry names (`!GetAtt
    X.Arn`, short or long form)."""
    value = arn.value if isinstance(arn, Tag) else arn
    if isinstance(value, dict):
        value = value.get("Fn::GetAtt", "")
    if isinstance(value, list):
        return str(value[0])
    return str(value).split(".")[0]


def mount_folders(fn, logs):
    """A function's EFS mounts as folders beside the state file (one an access point,
    shared by the functions that mount it), its settings rewritten to name them."""
    env = dict(fn["env"])
    for access_point, path in fn["mounts"]:
        folder = os.path.join(logs, "efs", access_point)
        os.makedirs(folder, exist_ok=True)
        for key, value in env.items():
            if value == path or value.startswith(path + "/"):
                env[key] = folder + value[len(path):]
    return env


# ------------------------------------------------------------------ processes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(url, proc, what, timeout=60, tcp=False):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"local-stack: {what} exited with {proc.returncode}")
        try:
            if tcp:
                # Any HTTP request to the emulator would be taken as an invocation.
                host, port = url.split("//")[1].split(":")
                socket.create_connection((host, int(port.strip("/"))), timeout=1).close()
            else:
                urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"local-stack: {what} did not start in {timeout}s")


def cargo_lambda():
    """cargo-lambda from PyPI, in its own virtual environment."""
    venv = os.path.join(ROOT, ".venv-lambda")
    exe = os.path.join(venv, "bin", "cargo-lambda")
    marker = os.path.join(venv, f"cargo-lambda-{CARGO_LAMBDA_VERSION}")
    if not (os.path.exists(exe) and os.path.exists(marker)):
        log(f"installing cargo-lambda=={CARGO_LAMBDA_VERSION} into .venv-lambda")
        subprocess.check_call([sys.executable, "-m", "venv", venv])
        subprocess.check_call(
            [os.path.join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check",
             f"cargo-lambda=={CARGO_LAMBDA_VERSION}"]
        )
        open(marker, "w").close()
    return exe


def start_http_function(logical, fn, bin_dir, endpoint, region, logs, children, invoke_url):
    """Serves a function an HTTP API invokes (the console) directly: its binary in listen
    mode on a free loopback port, signing in with a token made here. Returns what the
    state file says of it, or None when its binary is not built (named in the log)."""
    exe = os.path.join(bin_dir, fn["binary"])
    if not os.path.exists(exe):
        log(f"NOT STARTED: {fn['name']}: {exe} is missing; build it with `cargo build -p {fn['binary']}`")
        return None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = secrets.token_urlsafe(24)
    env = dict(os.environ)
    env.update(fn["env"])
    for key in ("AWS_LAMBDA_RUNTIME_API", "POSTROOM_OIDC_ISSUER", "POSTROOM_OIDC_CLIENT_ID"):
        env.pop(key, None)  # listen mode, and a token works only while OIDC is unset
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            # Lambda's Invoke API (search queries go to the search function): the emulator.
            "AWS_ENDPOINT_URL_LAMBDA": invoke_url,
            "AWS_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": fn["name"],
            "POSTROOM_BACKEND": "aws",
            "POSTROOM_CONSOLE_LISTEN": f"127.0.0.1:{port}",
            "POSTROOM_CONSOLE_ORIGIN": url,
            "POSTROOM_CONSOLE_TOKEN": token,
        }
    )
    p = subprocess.Popen(
        [exe], env=env, stdout=open(os.path.join(logs, f"{fn['binary']}.log"), "w"), stderr=subprocess.STDOUT
    )
    children.append(p)
    wait_for(f"{url}/healthz", p, fn["binary"])
    for key in fn["unresolved"]:
        log(f"not emulated: {logical}.{key} (names API Gateway or Cognito)")
    log(f"{fn['name']}: {fn['binary']} served on {url} (sign in: {url}/sign-in?token=...; in the state file)")
    return {"url": url, "token": token, "function": logical}


# ------------------------------------------------------------------ the pump


class Pump(threading.Thread):
    """Lambda's SQS event source mapping for one function and one queue."""

    def __init__(self, session, endpoint, invoke_url, fn, source, queue, region, stats, stop):
        super().__init__(daemon=True)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        self.invoke_url, self.fn, self.source, self.queue = invoke_url, fn, source, queue
        self.region, self.stats, self.stop = region, stats, stop

    def run(self):
        while not self.stop.is_set():
            try:
                self.once()
            except Exception as e:  # the pump keeps going, as the real one does
                log(f"pump {self.fn['binary']}: {type(e).__name__}: {e}")
                time.sleep(1)

    def receive(self):
        """Up to BatchSize messages, waiting up to the batching window for more."""
        want = self.source["batch_size"]
        deadline = time.time() + self.source["window"]
        messages = []
        while len(messages) < want and not self.stop.is_set():
            wait = 1 if not messages else max(0, min(1, int(deadline - time.time())))
            got = self.sqs.receive_message(
                QueueUrl=self.queue["url"],
                MaxNumberOfMessages=min(10, want - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            if messages and (not got or time.time() >= deadline):
                break
        return messages

    def once(self):
        messages = self.receive()
        if not messages:
            return
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    k: {
                        "stringValue": v.get("StringValue"),
                        "binaryValue": base64.b64encode(v["BinaryValue"]).decode() if "BinaryValue" in v else None,
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v["DataType"],
                    }
                    for k, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue["arn"],
                "awsRegion": self.region,
            }
            for m in messages
        ]
        started = time.time()
        request = urllib.request.Request(
            f"{self.invoke_url}/2015-03-31/functions/{self.fn['binary']}/invocations",
            data=json.dumps({"Records": records}).encode(),
            headers={"content-type": "application/json", "lambda-runtime-aws-request-id": str(uuid.uuid4())},
            method="POST",
        )
        failed_ids = {m["MessageId"] for m in messages}  # until the function says otherwise
        outcome = "error"
        try:
            with urllib.request.urlopen(request, timeout=self.fn["timeout"]) as resp:
                body = json.loads(resp.read() or b"null")
            if isinstance(body, dict) and "errorType" in body:
                outcome = f"error {body['errorType']}"
            elif self.source["report_failures"] and isinstance(body, dict) and body.get("batchItemFailures"):
                ids = [f.get("itemIdentifier") for f in body["batchItemFailures"]]
                if all(i in failed_ids for i in ids):
                    failed_ids = set(ids)
                    outcome = f"{len(ids)} failed"
                else:
                    outcome = "invalid batchItemFailures: whole batch retried"
            else:
                failed_ids = set()
                outcome = "ok"
        except urllib.error.HTTPError as e:
            outcome = f"function error (HTTP {e.code})"
        except (OSError, ValueError) as e:
            outcome = f"invoke failed ({type(e).__name__})"
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for i in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue["url"],
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[i : i + 10])],
            )
        ms = (time.time() - started) * 1000
        with self.stats["lock"]:
            s = self.stats[self.fn["binary"]]
            s["invocations"] += 1
            s["messages"] += len(messages)
            s["failed"] += len(failed_ids)
        log(f"{self.fn['binary']}: batch of {len(messages)} from {self.queue['name']}: {outcome} ({ms:.0f} ms)")


# ------------------------------------------------------------------ main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", help="a running moto server (default: start one)")
    ap.add_argument("--stage", default="local")
    ap.add_argument("--param", action="append", default=[], help="a template parameter, NAME=VALUE")
    ap.add_argument("--state-file", default=os.path.join(ROOT, "target", "local-stack", "state.json"))
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "target", "debug"))
    ap.add_argument("--template", default=os.path.join(ROOT, "infra", "template.yaml"))
    args = ap.parse_args()

    region = os.environ.get("AWS_REGION", "eu-west-2")
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_SESSION_TOKEN", "testing")):
        os.environ.setdefault(k, v)
    children = []
    stop = threading.Event()

    def shutdown(*_):
        stop.set()
        for p in reversed(children):
            if p.poll() is None:
                p.terminate()
        for p in children:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.path.exists(args.state_file):
            os.remove(args.state_file)
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    os.makedirs(os.path.dirname(args.state_file), exist_ok=True)
    logs = os.path.dirname(args.state_file)

    try:
        endpoint = args.endpoint
        if not endpoint:
            port = free_port()
            moto = subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                stdout=open(os.path.join(logs, "moto.log"), "w"),
                stderr=subprocess.STDOUT,
            )
            children.append(moto)
            endpoint = f"http://127.0.0.1:{port}"
            wait_for(f"{endpoint}/moto-api/", moto, "moto")
            log(f"moto on {endpoint}")

        params = dict(p.split("=", 1) for p in args.param)
        params["Stage"] = args.stage
        stack = Stack(load_template(args.template), params, region)
        session = boto3.session.Session(region_name=region)
        created, skipped = create_resources(stack, session, endpoint)
        after_deploy(args.bin_dir, endpoint, region, created)
        functions = functions_of(stack)
        for s in skipped:
            log(f"not emulated: {s}")

        # The Runtime API emulator; the functions poll it for their invocations.
        rt_port = free_port()
        watch = subprocess.Popen(
            [cargo_lambda(), "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(rt_port)],
            cwd=ROOT,
            stdout=open(os.path.join(logs, "cargo-lambda.log"), "w"),
            stderr=subprocess.STDOUT,
        )
        children.append(watch)
        invoke_url = f"http://127.0.0.1:{rt_port}"
        wait_for(invoke_url, watch, "cargo lambda watch", tcp=True)
        log(f"cargo lambda watch (Runtime API emulator) on {invoke_url}")

        console = None
        started = set()
        for logical, fn in functions.items():
            if fn["http"]:
                console = start_http_function(logical, fn, args.bin_dir, endpoint, region, logs, children, invoke_url)
                continue
            # Functions deployed from one binary (the search writer and its readers) are
            # one process here: the emulator knows a function by its binary.
            if fn["binary"] in started:
                log(f"{fn['name']}: served by the {fn['binary']} process already started")
                continue
            started.add(fn["binary"])
            exe = os.path.join(args.bin_dir, fn["binary"])
            if not os.path.exists(exe):
                raise SystemExit(f"local-stack: {exe} is missing; build it with `cargo build --workspace --bins`")
            env = dict(os.environ)
            env.update(mount_folders(fn, logs))
            env.update(
                {
                    "AWS_ENDPOINT_URL": endpoint,
                    # Lambda's Invoke API (the search function's queries): the emulator.
                    "AWS_ENDPOINT_URL_LAMBDA": invoke_url,
                    "AWS_REGION": region,
                    "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{rt_port}/.rt/{fn['binary']}",
                    "AWS_LAMBDA_FUNCTION_NAME": fn["name"],
                    "AWS_LAMBDA_FUNCTION_VERSION": "1",
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn["memory"]),
                    "POSTROOM_BACKEND": "aws",
                }
            )
            p = subprocess.Popen(
                [exe], env=env, stdout=open(os.path.join(logs, f"{fn['binary']}.log"), "w"), stderr=subprocess.STDOUT
            )
            children.append(p)
            log(f"{fn['name']}: {fn['binary']} (timeout {fn['timeout']}s, env {sorted(fn['env'])})")

        stats = {"lock": threading.Lock()}
        for fn in functions.values():
            stats[fn["binary"]] = {"invocations": 0, "messages": 0, "failed": 0}
        by_arn = {q["arn"]: q for q in created["queues"].values()}
        for fn in functions.values():
            for source in fn["sources"]:
                queue = by_arn[source["queue_arn"]]
                Pump(session, endpoint, invoke_url, fn, source, queue, region, stats, stop).start()
                log(
                    f"event source: {queue['name']} -> {fn['binary']} (batch {source['batch_size']}, "
                    f"window {source['window']}s, visibility {queue['attributes'].get('VisibilityTimeout')}s)"
                )
            for sched in fn["schedules"]:
                log(f"schedule {sched['expression']} -> {fn['binary']}: invoke it directly (not timed locally)")

        state = {
            "endpoint": endpoint,
            "region": region,
            "stage": args.stage,
            "invoke_url": invoke_url,
            "buckets": created["buckets"],
            "tables": created["tables"],
            "queues": {k: {"url": q["url"], "arn": q["arn"]} for k, q in created["queues"].items()},
            "functions": {k: {"name": f["name"], "binary": f["binary"]} for k, f in functions.items()},
            "pid": os.getpid(),
        }
        if console:
            state["console"] = console
        tmp = args.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=2)
        os.replace(tmp, args.state_file)
        log(f"ready: {args.state_file}")

        while not stop.is_set():
            for p in children:
                if p.poll() is not None:
                    log(f"{p.args[0]} exited with {p.returncode}; stopping")
                    shutdown()
            time.sleep(0.5)
    except BaseException as e:
        # A clean stop has already stopped everything; any other end stops it here.
        if not isinstance(e, SystemExit):
            log(f"failed: {type(e).__name__}: {e}")
        stop.set()
        for p in children:
            if p.poll() is None:
                p.terminate()
        raise


if __name__ == "__main__":
    main()
