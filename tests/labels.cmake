# CTest labels of rooflm_tests, as gtest filters (CMakeLists.txt registers each group with its
# labels; every case in no group is "unit"). `ctest -L unit` must run in seconds with no model
# file, so a case that reads models/ (or skips without it) goes in "model", one that runs a built
# program or script in "cli", one that takes seconds in "slow". Keep a new case's group right:
# run `ctest -L unit` with models/ moved away, it must pass.
set(ROOFLM_TESTS_MODEL_CLI
  BenchCli.TinyRealRunBaselineAndStagedAgree CLI.GenerateJsonHasStableKeys CLI.PairedABHarness CLI.TuneFlag
  Hardening.AbsurdThreadCountsAreRefused Hardening.BadProfilePathIsRefusedBeforeTheRun
  Hardening.ContextFullStopsGenerationWithAReason Hardening.InvalidUtf8PromptsEndToEnd
  SpecSmolLM2.BadInputsNameTheFlag SpecSmolLM2.CliJsonReportsSpeculativeKeys Synthetic.RealModelDoesNotWarn)
set(ROOFLM_TESTS_MODEL
  CLI.BadArgumentsAndLimits CLI.TruncatedRealModel GGUF.ReadsTheDefaultModel
  Fixtures/TokenizerCorpus.*/smollm2 Fixtures/TokenizerCorpus.*/gemma3 KVTypes/SessionKV.*
  LlamaCppGreedy.* Matmul.RealModelWeights Reference.SmolLM2LogitsMatchNumPyReference
  RooflineModel.GgufSmolLM2FileIfPresent Session.* SpecSmolLM2.FirstTwoSampledTokensFollowTheTarget
  SpecSmolLM2.GreedyEqualsPlainDecoding* SpecSmolLM2.StopsAtEndOfTurnLikePlainDecoding
  TokenizerChat.SmolLM2DefaultSystemPromptComesFromTheTemplate TokenizerChat.GemmaEndOfTurnAndBos)
set(ROOFLM_TESTS_CLI
  BenchCharts.TableReportsGreedyFailures BenchCli.BadInputNamesTheArgumentAndWritesNothing CLI.BadModelFiles
  CLI.FeaturesWritesConsistentNpyFiles CLI.ProbeWorkingSetArguments
  Hardening.FailingRunsLeaveExistingOutputFilesUntouched Hardening.KvCacheLargerThanMemoryIsRefusedWithTheSizeNeeded
  Hardening.ThreadsTheSystemRefusesGiveAnErrorNotATerminate RooflineChart.BadRequestsNameTheArgument
  RooflineChart.HostMultiRoofChartAndMeasuredProfile RooflineChart.SvgValidatedByXmlParser RooflineCli.*
  Synthetic.GenerateWarnsOnceAndBenchLabels VerifyCurve.BadArgumentsNameTheFlag VerifyCurve.JsonTableAndChart)
set(ROOFLM_TESTS_CLI_SLOW Synthetic.GeneratorRejectsBadArguments Synthetic.SameSeedSameFile
  Synthetic.GeneratedModelsLoadAndDecode)
# Seconds each on a busy 2-core machine, or sensitive to the machine (RooflineProbe measures caches).
set(ROOFLM_TESTS_SLOW
  Matmul.AwkwardLargeShapesVsReference Matmul.FastPathsMatchReference Matmul.QuantPathsBitIdentical
  RooflineProbe.QuickRunRoundTripsThroughCacheAndHostPreset RooflineProbe.WorkingSetMeasuresOnlyThatSet
  SpecDecode.GreedyEqualsPlainDecodingEveryMode SpecDecode.SamplingReproducesTheTargetJointDistribution
  ThreadPool.ManyTinyJobsInARow)
set(ROOFLM_TESTS_SERVER ServerRequest.*)  # rooflm serve's request parser: pure, fast, so also unit
set(ROOFLM_TESTS_FUZZ FuzzRegression.*)  # the fuzzers' findings, replayed: fast, so also unit

set(ROOFLM_TEST_GROUPS MODEL_CLI model,cli MODEL model CLI cli CLI_SLOW cli,slow SLOW slow FUZZ unit,fuzz SERVER unit,server)
