"""The job configurations the contract parity test covers.

Each case is what SageMaker (or the SDK's local mode) would write into input/config, as exact file
text, plus the container's environment variables and device counts. Hyperparameters go through
sdk() when the SageMaker Python SDK would have JSON-encoded them, and are written raw otherwise
(console / boto3 jobs).
"""
import json

CHANNEL = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}


def sdk(hps):
    """The SDK's EstimatorBase._json_encode_hyperparameters: every value json.dumps-ed."""
    return {k: json.dumps(v) for k, v in hps.items()}


def script_mode(program="train.py", job="hf-job-1", **extra):
    hps = {
        "sagemaker_submit_directory": f"s3://sagemaker-us-east-1-111122223333/{job}/source/sourcedir.tar.gz",
        "sagemaker_program": program,
        "sagemaker_container_log_level": 20,
        "sagemaker_job_name": job,
        "sagemaker_region": "us-east-1",
    }
    hps.update(extra)
    return hps


def resource(current, hosts, instance_type="ml.g5.12xlarge", groups=None, **extra):
    rc = {"current_host": current, "current_instance_type": instance_type}
    if groups is None:
        groups = [{"instance_group_name": "homogeneousCluster", "instance_type": instance_type, "hosts": hosts}]
    if groups != "local":
        current_group = next(g["instance_group_name"] for g in groups if current in g["hosts"])
        rc["current_group_name"] = current_group
    rc["hosts"] = hosts
    if groups != "local":
        rc["instance_groups"] = groups
    rc["network_interface_name"] = "eth0"
    rc.update(extra)
    return rc


def case(hps, rc, channels=None, env=None, gpus=0, cpus=8, raw_hps=None):
    channels = {"train": CHANNEL, "test": CHANNEL} if channels is None else channels
    hp_text = raw_hps if raw_hps is not None else json.dumps(hps)
    return {
        "files": {
            "hyperparameters.json": hp_text,
            "resourceconfig.json": json.dumps(rc),
            "inputdataconfig.json": json.dumps(channels),
        },
        "env": env or {},
        "devices": {"gpus": gpus, "cpus": cpus},
    }


HF_ENV = {"TRAINING_JOB_NAME": "hf-job-1", "SAGEMAKER_TRAINING_MODULE": "sagemaker_pytorch_container.training:main"}
HF_HPS = {"epochs": 1, "train_batch_size": 32, "model_name": "distilbert-base-uncased", "learning_rate": 5e-05}


def cases():
    c = {}
    # The reference's golden example: one ml.g5.12xlarge, PyTorch DLC, SDK-encoded HF hyperparameters.
    c["hf_single_gpu"] = case(sdk({**HF_HPS, **script_mode()}), resource("algo-1", ["algo-1"]), env=HF_ENV, gpus=4, cpus=48)
    # SDK local mode: no instance_groups / current_group_name, channels with only TrainingInputMode.
    c["local_mode_single"] = case(
        sdk({**HF_HPS, **script_mode(program="train.py", job="local-job")}),
        resource("algo-1-x7k2p", ["algo-1-x7k2p"], instance_type="local", groups="local"),
        channels={"train": {"TrainingInputMode": "File"}, "test": {"TrainingInputMode": "File", "ContentType": "text/csv"}},
        env={"TRAINING_JOB_NAME": "local-job"})
    c["local_gpu_two_hosts_torch_distributed"] = case(
        sdk({**HF_HPS, **script_mode(sagemaker_torch_distributed_enabled=True, sagemaker_instance_type="local_gpu")}),
        resource("algo-2-ab12c", ["algo-1-ab12c", "algo-2-ab12c"], instance_type="local_gpu", groups="local"),
        gpus=2, cpus=16)
    # Two p4d hosts, MPI, group hosts unsorted current-host-first (the master trap).
    p4d_groups = [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.p4d.24xlarge", "hosts": ["algo-2", "algo-1"]}]
    c["p4d_two_hosts_mpi_on_algo2"] = case(
        sdk({**HF_HPS, **script_mode(sagemaker_mpi_enabled=True, sagemaker_mpi_num_of_processes_per_host=8,
                                     sagemaker_mpi_custom_mpi_options="-verbose --NCCL_DEBUG=WARN",
                                     sagemaker_instance_type="ml.p4d.24xlarge")}),
        resource("algo-2", ["algo-1", "algo-2"], instance_type="ml.p4d.24xlarge", groups=p4d_groups),
        env=HF_ENV, gpus=8, cpus=96)
    c["p4d_two_hosts_no_distribution_on_algo1"] = case(
        sdk({**HF_HPS, **script_mode()}),
        resource("algo-1", ["algo-1", "algo-2"], instance_type="ml.p4d.24xlarge",
                 groups=[{**p4d_groups[0], "hosts": ["algo-1", "algo-2"]}]),
        env=HF_ENV, gpus=8, cpus=96)
    # Heterogeneous cluster: train1 (2 GPU hosts) runs MPI, train2 (1 CPU host) does not.
    hetero = [
        {"instance_group_name": "train1", "instance_type": "ml.p3.16xlarge", "hosts": ["algo-1", "algo-2"]},
        {"instance_group_name": "train2", "instance_type": "ml.c5.xlarge", "hosts": ["algo-3"]},
    ]
    hetero_hps = sdk({**HF_HPS, **script_mode(sagemaker_mpi_enabled=True, sagemaker_distribution_instance_groups=["train1"])})
    c["hetero_on_train1"] = case(hetero_hps, resource("algo-1", ["algo-1", "algo-2", "algo-3"], "ml.p3.16xlarge", hetero), gpus=8)
    c["hetero_on_train2"] = case(hetero_hps, resource("algo-3", ["algo-1", "algo-2", "algo-3"], "ml.c5.xlarge", hetero), cpus=4)
    c["no_channels"] = case(sdk(script_mode()), resource("algo-1", ["algo-1"]), channels={})
    c["many_channels_pipe_fastfile"] = case(
        sdk(script_mode()), resource("algo-1", ["algo-1"]),
        channels={
            "train": {**CHANNEL, "ContentType": "application/x-parquet"},
            "validation": {"TrainingInputMode": "Pipe", "S3DistributionType": "ShardedByS3Key", "RecordWrapperType": "RecordIO"},
            "model": {"TrainingInputMode": "FastFile", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
            "test": CHANNEL,
            "Code-Dir.v2": {"TrainingInputMode": "File"},
        })
    c["smddp_dataparallel"] = case(
        sdk({**HF_HPS, **script_mode(sagemaker_distributed_dataparallel_enabled=True,
                                     sagemaker_distributed_dataparallel_custom_mpi_options="",
                                     sagemaker_instance_type="ml.p4d.24xlarge")}),
        resource("algo-1", ["algo-1", "algo-2"], "ml.p4d.24xlarge"), env=HF_ENV, gpus=8, cpus=96)
    c["hf_pytorchddp"] = case(
        sdk({**HF_HPS, **script_mode(sagemaker_pytorch_ddp_enabled=True, sagemaker_instance_type="ml.g5.48xlarge")}),
        resource("algo-1", ["algo-1"], "ml.g5.48xlarge"), env=HF_ENV, gpus=8)
    mp = {"partitions": 4, "microbatches": 4, "pipeline": "interleaved", "placement_strategy": "spread",
          "optimize": "speed", "ddp": True}
    mp_hps = sdk({**HF_HPS, **script_mode(sagemaker_mpi_enabled=True, sagemaker_mpi_num_of_processes_per_host=8,
                                          sagemaker_mpi_custom_mpi_options="", sagemaker_distributed_dataparallel_enabled=False,
                                          sagemaker_instance_type="ml.p3dn.24xlarge"), "mp_parameters": mp})
    c["model_parallel_smp"] = case(mp_hps, resource("algo-1", ["algo-1", "algo-2"], "ml.p3dn.24xlarge"), gpus=8)
    c["model_parallel_smp_mp_env_set"] = case(
        mp_hps, resource("algo-1", ["algo-1", "algo-2"], "ml.p3dn.24xlarge"), gpus=8,
        env={"SM_HP_MP_PARAMETERS": json.dumps(mp, sort_keys=True, separators=(",", ":"))})
    c["mp_env_empty_object"] = case(sdk(script_mode()), resource("algo-1", ["algo-1"]), env={"SM_HP_MP_PARAMETERS": "{}"})
    c["mp_env_empty_string"] = case(sdk(script_mode()), resource("algo-1", ["algo-1"]), env={"SM_HP_MP_PARAMETERS": ""})
    # Every JSON type and Python's number corner cases, raw (not SDK-encoded) so each string is decoded.
    c["json_types_and_numbers"] = case(None, resource("algo-1", ["algo-1"]), raw_hps=json.dumps({
        "sagemaker_program": "\"train.py\"",
        "t": "true", "f": "false", "T_cap": "True", "n": "null", "empty_obj": "{}", "empty_list": "[]",
        "lst": "[1, \"a b\", 2.5, null, true, [\"x\", {\"k\": 1}]]", "obj": "{\"b\": 1, \"a\": {\"z\": null, \"y\": [1]}}",
        "lr": "5e-05", "e16": "1e16", "e15": "1e15", "e_minus5": "1e-5", "tenth_k": "0.0001", "dec": "1.50",
        "big_e": "1E5", "neg_zero_int": "-0", "neg_zero_float": "-0.0", "huge_int": "12345678901234567890",
        "huger_int": "123456789012345678901234567890", "nan": "NaN", "inf": "Infinity", "ninf": "-Infinity",
        "lead_space": " 1", "leading_zero": "01", "underscore_num": "1_000", "quoted_empty": "\"\"", "empty": "",
        "float_prec": "0.1", "third": "0.3333333333333333", "neg": "-2.5e-7", "overflow": "1e400",
        "int_in_file": 7, "float_in_file": 0.5, "bool_in_file": False, "list_in_file": [1, "two"],
        "dict_in_file": {"x": None, "y": True}, "nan_in_list": "[1.0, NaN]",
    }))
    c["unicode"] = case(sdk({"sagemaker_program": "train.py", "café": "naïve résumé", "emoji": "🚀 launch 😀",
                             "cjk": "日本語のテキスト", "combining": "e\u0301", "rtl": "שלום", "ключ": "значение",
                             "ctrl": "tab\there\u0007bell\u007fdel", "nbsp": "a\u00a0b", "zwsp": "a\u200bb",
                             "lsep": "a\u2028b", "list": ["ü", "😀", "\u0085"]}),
                        resource("algo-1", ["algo-1"]),
                        channels={"train": CHANNEL, "données": {"TrainingInputMode": "File"}})
    c["quotes_spaces_shell_metachars"] = case(sdk({
        "sagemaker_program": "train.py", "plain": "hello world", "apostrophe": "it's", "dquote": "say \"hi\"",
        "both_quotes": "it's \"x\"", "dollar": "$HOME", "star": "*.py", "meta": "a;b|c&d>e<f`g`", "newline": "line1\nline2",
        "backslash": "C:\\path\\n", "crlf": "a\r\nb", "leading_trailing": "  padded  ", "single_quote_only": "'",
        "list_quotes": ["it's", "say \"hi\""], "dict_quotes": {"k'": "v\"", "a b": "c d"},
    }), resource("algo-1", ["algo-1"]))
    c["empty_strings_and_short_keys"] = case(sdk({
        "sagemaker_program": "train.py", "": "42", "U": "1", "b": "2", "T": "", "é": "short unicode key",
        "da-sh": 1, "da_der": 2, "un-sh": 3, "un_der": 4, "Z": None, "a": "lower a", "A": "upper A",
    }), resource("algo-1", ["algo-1"]))
    c["dict_values_to_args"] = case(sdk({
        "sagemaker_program": "train.py",
        "channel_dirs": {"train": "foo", "eval": "bar"}, "nested": {"b": {"c": True}, "a": [1, 3, 4]},
        "with_none": {"x": None, "y": False, "z": 1.0}, "empty_dict": {}, "deep_list": ["1", ["2", "3", [["6"]]]],
    }), resource("algo-1", ["algo-1"]))
    c["console_raw_hyperparameters"] = case(None, resource("algo-1", ["algo-1"], "ml.m5.xlarge"), raw_hps=json.dumps({
        "epochs": "3", "learning_rate": "0.001", "model_name": "distilbert-base-uncased", "fp16": "True",
        "sagemaker_program": "train.py", "sagemaker_submit_directory": "/opt/ml/code",
    }))
    c["program_env_overrides_hp"] = case(sdk(script_mode(program="scripts/train.py")),
                                         resource("algo-1", ["algo-1"]), env={"SAGEMAKER_PROGRAM": "main.py"})
    c["program_env_empty"] = case(sdk(script_mode(program="entry.sh")), resource("algo-1", ["algo-1"]),
                                  env={"SAGEMAKER_PROGRAM": ""})
    c["no_program_builtin_trainer"] = case(sdk({**HF_HPS, "sagemaker_job_name": "builtin", "sagemaker_region": "eu-west-1"}),
                                           resource("algo-1", ["algo-1"]))
    c["log_level_region_job_name"] = case(
        sdk(script_mode(program="train", sagemaker_container_log_level=10, sagemaker_region="ap-south-1",
                        sagemaker_job_name="job-ÿ", sagemaker_enable_cloudwatch_metrics=False,
                        _tuning_objective_metric="loss", sagemaker_s3_output="s3://b/p", default_user_module_name="m",
                        sagemaker_parameter_server_num=2, sagemaker_custom_flag={"a": 1})),
        resource("algo-1", ["algo-1"]), env={"TRAINING_JOB_NAME": "job-from-platform"})
    c["aws_default_region_fallback"] = case(sdk({"sagemaker_program": "train.py"}), resource("algo-1", ["algo-1"]),
                                            env={"AWS_DEFAULT_REGION": "sa-east-1"})
    c["gb200_topology"] = case(sdk(script_mode(sagemaker_torch_distributed_enabled=True)),
                               resource("algo-2", ["algo-1", "algo-2"], "ml.p6e-gb200.36xlarge",
                                        topology=[{"hostName": "algo-1", "capacityUnitId": "cu-1"},
                                                  {"hostName": "algo-2", "capacityUnitId": "cu-1"}]), gpus=4)
    c["empty_topology"] = case(sdk(script_mode()), resource("algo-1", ["algo-1"], topology=[]))
    c["trn2_neuron_cores"] = case(sdk(script_mode(sagemaker_torch_distributed_enabled=True)),
                                  resource("algo-1", ["algo-1"], "ml.trn2.48xlarge"), cpus=192)
    c["key_order_and_resource_extras"] = case(
        sdk({"zeta": 1, "alpha": 2, "Mid": 3, "sagemaker_program": "train.py"}),
        {"network_interface_name": "ethwe", "hosts": ["algo-1"], "current_host": "algo-1", "extra_key": {"z": 1, "a": [2]}},
        channels={"zz": {"TrainingInputMode": "File"}, "aa": {"TrainingInputMode": "File"}})
    return c
