"""A small CRI v1 client for the tests: gRPC (Debian's python3-grpcio) over containerd's socket,
messages from cri_api.proto compiled at run time with protoc into a temporary directory (nothing
generated is kept). Methods are called by their path, /runtime.v1.<Service>/<Method>."""
import importlib, os, shutil, subprocess, sys, tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))


def load_api():
    """Compiles cri_api.proto and returns the generated module."""
    out = tempfile.mkdtemp(prefix="husk-cri-proto.")
    try:
        subprocess.run(["protoc", "-I", HERE, "--python_out=" + out,
                        os.path.join(HERE, "cri_api.proto")], check=True)
        sys.path.insert(0, out)
        try:
            return importlib.import_module("cri_api_pb2")
        finally:
            sys.path.remove(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


api = load_api()

# method -> (service, request type, response type)
_METHODS = {
    "Version": ("RuntimeService", "VersionRequest", "VersionResponse"),
    "RunPodSandbox": ("RuntimeService", "RunPodSandboxRequest", "RunPodSandboxResponse"),
    "StopPodSandbox": ("RuntimeService", "StopPodSandboxRequest", "StopPodSandboxResponse"),
    "RemovePodSandbox": ("RuntimeService", "RemovePodSandboxRequest", "RemovePodSandboxResponse"),
    "PodSandboxStatus": ("RuntimeService", "PodSandboxStatusRequest", "PodSandboxStatusResponse"),
    "ListPodSandbox": ("RuntimeService", "ListPodSandboxRequest", "ListPodSandboxResponse"),
    "CreateContainer": ("RuntimeService", "CreateContainerRequest", "CreateContainerResponse"),
    "StartContainer": ("RuntimeService", "StartContainerRequest", "StartContainerResponse"),
    "StopContainer": ("RuntimeService", "StopContainerRequest", "StopContainerResponse"),
    "RemoveContainer": ("RuntimeService", "RemoveContainerRequest", "RemoveContainerResponse"),
    "ListContainers": ("RuntimeService", "ListContainersRequest", "ListContainersResponse"),
    "ContainerStatus": ("RuntimeService", "ContainerStatusRequest", "ContainerStatusResponse"),
    "UpdateContainerResources": ("RuntimeService", "UpdateContainerResourcesRequest",
                                 "UpdateContainerResourcesResponse"),
    "ExecSync": ("RuntimeService", "ExecSyncRequest", "ExecSyncResponse"),
    "ContainerStats": ("RuntimeService", "ContainerStatsRequest", "ContainerStatsResponse"),
    "ImageStatus": ("ImageService", "ImageStatusRequest", "ImageStatusResponse"),
}


class Cri:
    """cri.Method(request_message) or cri.Method(**fields of the request)."""

    def __init__(self, socket, timeout=60):
        self.channel = grpc.insecure_channel("unix://" + socket)
        self.timeout = timeout
        self._calls = {}
        for name, (svc, req, resp) in _METHODS.items():
            self._calls[name] = (getattr(api, req), self.channel.unary_unary(
                "/runtime.v1.%s/%s" % (svc, name),
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=getattr(api, resp).FromString))

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._calls:
            raise AttributeError(name)
        req_type, call = self._calls[name]

        # request fields as keywords (some are named "timeout"); deadline_ is the call's deadline
        def invoke(request_=None, deadline_=None, **fields):
            if request_ is None:
                request_ = req_type(**fields)
            return call(request_, timeout=deadline_ or self.timeout)
        return invoke

    def close(self):
        self.channel.close()
