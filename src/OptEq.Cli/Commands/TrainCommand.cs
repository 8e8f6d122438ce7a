using System.CommandLine;
using System.Globalization;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Distributed;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Ddpn;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Autodiff.Validation;
using OptEq.Cli.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq train</c>: trains an equilibrium classifier on MNIST (bundled) or any IDX dataset; its defaults are the reference run.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var d = new ModelConfig();
        var t = new TrainingOptions();
        var model = CommonOptions.Typed("--model", $"Model: {string.Join(", ", ModelConfig.Kinds.Where(k => k != ModelKind.Custom.Name))}.", ModelKind.Parse, d.Model);
        var hidden = new Option<int>("--hidden", "--width") { Description = "Hidden units (opteq, idl, mon, deq).", DefaultValueFactory = _ => d.Hidden };
        var tiers = CommonOptions.IntList("--tiers", "Tier sizes of deep-opteq (e.g. 32,32,32).", d.Tiers);
        var layers = CommonOptions.IntList("--layers", "Hidden widths of mlp, one linear layer and activation each (e.g. 64,64,64).", d.Layers);
        var activation = CommonOptions.Typed("--activation", "Proximal activation (relu, tanh, softplus, leaky-relu:0.1, …).", Activation.Parse, d.Activation);
        var gamma = new Option<double>("--gamma") { Description = "Bound γ < 1 on ||W||₂ (κ for idl; 1 − m for mon).", DefaultValueFactory = _ => d.Gamma };
        var norm = CommonOptions.Typed("--norm", "Reparameterisation of W: frobenius or spectral.", ParseNorm, d.Norm);
        norm.HelpName = "frobenius|spectral";
        var solver = CommonOptions.Typed("--solver", $"Forward solver: {string.Join(", ", SolverRegistry.Forward.Names)}.", name => SolverRegistry.Forward[name], d.Solver);
        var forwardIterations = new Option<int>("--forward-iterations") { Description = "Forward solver iteration cap.", DefaultValueFactory = _ => d.ForwardMaxIterations };
        var forwardTolerance = new Option<double>("--forward-tolerance") { Description = "Forward relative residual tolerance.", DefaultValueFactory = _ => d.ForwardTolerance };
        var backward = CommonOptions.Typed("--backward", $"Backward mode: {string.Join(", ", BackwardMethod.ValidNames)}.", text => BackwardMethod.Parse(text), d.Backward);
        var backwardIterations = new Option<int>("--backward-iterations") { Description = "Adjoint solver iteration cap.", DefaultValueFactory = _ => d.BackwardMaxIterations };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => t.Epochs };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => t.Batch };
        var lr = new Option<double>("--lr") { Description = "Learning rate (the peak rate for one-cycle).", DefaultValueFactory = _ => t.LearningRate };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: constant, step:N[:γ], cosine[:warmup[:min]], one-cycle[:pct[:div[:final]]].", DefaultValueFactory = _ => t.Schedule.Text };
        var optimizer = new Option<string>("--optimizer") { Description = $"Optimizer: {string.Join(", ", OptimizerFactory.Names)}.", DefaultValueFactory = _ => OptimizerFactory.Name(t.Optimizer) };
        var ddpnBase = CommonOptions.Typed("--ddpn-base", "ddpnopt: base optimizer and preconditioner of Q_uu: sgd (identity), rmsprop or adam (diagonal).", DdpnOptions.ParseBase, t.Ddpn.Base);
        var ddpnEpsilon = new Option<double>("--ddpn-epsilon") { Description = "ddpnopt: Tikhonov regularisation ε of V_xx (V_xx + ε·I).", DefaultValueFactory = _ => t.Ddpn.Epsilon };
        var ddpnFeedback = new Option<bool>("--ddpn-feedback") { Description = "ddpnopt: apply the feedback K·δx (false: exactly the base optimizer).", DefaultValueFactory = _ => t.Ddpn.Feedback };
        var ddpnBound = new Option<double>("--ddpn-bound") { Description = "ddpnopt: bound each element of the feedback K·δx by this multiple of its open-loop step |k| (0: unbounded).", DefaultValueFactory = _ => t.Ddpn.Bound };
        var ddpnPrecond = new Option<string?>("--ddpn-precond") { Description = "ddpnopt: preconditioner of Q_uu: identity (sgd base), diagonal (rmsprop/adam base) or kfac (Kronecker factors per linear layer, sgd base); default: the base's." };
        var ddpnKfacDamping = new Option<double>("--ddpn-kfac-damping") { Description = "ddpnopt kfac: damping γ added to both Kronecker factors before inversion.", DefaultValueFactory = _ => t.Ddpn.KfacDamping };
        var ddpnKfacDecay = new Option<double>("--ddpn-kfac-decay") { Description = "ddpnopt kfac: running-average decay of the factors, in [0, 1).", DefaultValueFactory = _ => t.Ddpn.KfacDecay };
        var ddpnKfacRefresh = new Option<int>("--ddpn-kfac-refresh") { Description = "ddpnopt kfac: re-estimate and invert the factors every N steps.", DefaultValueFactory = _ => t.Ddpn.KfacRefresh };
        var loss = CommonOptions.Typed("--loss", "Training loss: ce (softmax cross-entropy, predict the argmax) or mmc[:C] (Max-Mahalanobis centres of norm C, default 10; predict the nearest centre; docs/math.md §7.9).", ClassificationLoss.Parse, t.Loss);
        loss.HelpName = "ce|mmc|mmc:C";
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay.", DefaultValueFactory = _ => t.WeightDecay };
        var clip = new Option<double>("--clip") { Description = "Clip gradients to this global norm (0: off).", DefaultValueFactory = _ => t.ClipNorm };
        var augment = new Option<int>("--augment") { Description = "Random shifts of up to N pixels (0: off).", DefaultValueFactory = _ => t.AugmentShift };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, batch order and augmentation.", DefaultValueFactory = _ => 0 };
        var data = new Option<string?>("--data") { Description = "A folder with train/t10k IDX files (gzipped or not), or data/digits or data/wine (CSV); default: the bundled MNIST." };
        var output = new Option<string>("--out") { Description = "Run folder for metrics, plots and the checkpoint.", DefaultValueFactory = _ => Path.Combine("runs", "mnist-opteq") };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint (same model and settings; --epochs is the run's total)." };
        var allowOptionChange = new Option<bool>("--allow-option-change") { Description = "With --resume: continue even though training options differ from the checkpoint's (the run will not match an uninterrupted one)." };
        var holdout = new Option<int>("--holdout") { Description = "Hold out the last N training images: every epoch is evaluated on them (and best.safetensors chosen by them); the test set is evaluated once, at the end. 0: evaluate on the test set every epoch.", DefaultValueFactory = _ => 0 };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after this epoch (of --epochs, the schedule's length); continue later with --resume and the same --epochs." };
        var device = CommonOptions.Device();
        device.Description += " Under mpirun, {local_rank} is replaced by the rank's index on its machine (e.g. cuda:{local_rank}).";
        var command = new Command("train", "Train an equilibrium classifier; the defaults train the reference OptEq model on the bundled MNIST.")
        {
            model, hidden, tiers, layers, activation, gamma, norm, solver, forwardIterations, forwardTolerance, backward, backwardIterations,
            epochs, batch, lr, schedule, optimizer, ddpnBase, ddpnEpsilon, ddpnFeedback, ddpnBound, ddpnPrecond, ddpnKfacDamping, ddpnKfacDecay, ddpnKfacRefresh, loss, weightDecay, clip, augment, seed, data, output, resume, device, allowOptionChange, stopAfter, holdout,
        };
        var grow = new GrowOptions();
        grow.AddTo(command);
        var conv = new ConvCliOptions();
        conv.AddTo(command);
        // Under mpirun every rank runs this action; DataParallelRun ends them all if one fails.
        command.SetAction(parse => DataParallelRun.Run(communicator => Train(parse, communicator)));
        return command;

        int Train(ParseResult parse, ITrainingCommunicator communicator)
        {
            var growth = grow.Parse(parse);
            // Parsed before the data is loaded: a typo fails at once.
            var optimizerKind = OptimizerFactory.Parse(parse.GetValue(optimizer)!);
            var scheduleSpec = ScheduleSpec.Parse(parse.GetValue(schedule)!);
            TrainOptionChecks.Check(parse, hidden, tiers, layers, gamma, forwardIterations, forwardTolerance, backwardIterations, epochs, batch, lr, weightDecay, clip, augment, stopAfter);
            var folder = new RunFolder(parse.GetValue(output)!);
            var (train, test) = DatasetLoader.Load(parse.GetValue(data));
            // With --holdout the epochs are judged on held-out training images and the test set is read once, at the end.
            var heldOut = TrainOptionChecks.SplitHoldout(ref train, parse.GetValue(holdout), parse.GetValue(batch));
            var (mean, std) = train.PixelStatistics();
            TrainOptionChecks.CheckData(train, parse.GetValue(data), parse.GetValue(augment));
            train.Standardize(mean, std);
            test.Standardize(mean, std);
            heldOut?.Standardize(mean, std);
            var evaluation = heldOut ?? test;
            var config = new ModelConfig
            {
                Model = parse.GetValue(model)!, Input = train.Pixels, Classes = train.Classes, Hidden = parse.GetValue(hidden), Tiers = parse.GetValue(tiers)!,
                Layers = parse.GetValue(layers)!, Conv = conv.Parse(parse, parse.GetValue(model)!), Activation = parse.GetValue(activation)!, Gamma = parse.GetValue(gamma), Norm = parse.GetValue(norm),
                Solver = parse.GetValue(solver)!, ForwardMaxIterations = parse.GetValue(forwardIterations), ForwardTolerance = parse.GetValue(forwardTolerance),
                Backward = parse.GetValue(backward), BackwardMaxIterations = parse.GetValue(backwardIterations),
                InputMean = mean, InputStd = std, Seed = parse.GetValue(seed),
            };
            config.Validate();
            var options = new TrainingOptions
            {
                Epochs = parse.GetValue(epochs), Batch = parse.GetValue(batch), LearningRate = parse.GetValue(lr), Schedule = scheduleSpec,
                Optimizer = optimizerKind, Loss = parse.GetValue(loss)!, WeightDecay = parse.GetValue(weightDecay), ClipNorm = parse.GetValue(clip),
                AugmentShift = parse.GetValue(augment), Seed = parse.GetValue(seed),
                Ddpn = new DdpnOptions
                {
                    Base = parse.GetValue(ddpnBase), Epsilon = parse.GetValue(ddpnEpsilon), Feedback = parse.GetValue(ddpnFeedback),
                    Bound = parse.GetValue(ddpnBound),
                    Preconditioner = parse.GetValue(ddpnPrecond) is { } precond ? DdpnOptions.ParsePreconditioner(precond) : null,
                    KfacDamping = parse.GetValue(ddpnKfacDamping), KfacDecay = parse.GetValue(ddpnKfacDecay), KfacRefresh = parse.GetValue(ddpnKfacRefresh),
                },
            };
            if (optimizerKind == OptimizerKind.Ddpnopt) options.Ddpn.Validate();
            using var dev = DeviceCatalog.Open(LaunchEnvironment.DeviceFor(parse.GetValue(device) ?? Environment.GetEnvironmentVariable(DeviceCatalog.EnvironmentVariable), communicator));
            if (growth is not null)
            {
                // Growth changes the model's shape between rounds; the data-parallel path averages fixed-shape gradients.
                if (communicator.Ranks > 1) throw InputException.Option("--grow", "growth runs in one process; run it without mpirun");
                if (options.Loss.Kind != LossKind.CrossEntropy) throw InputException.Option("--loss", $"growth splits on the cross-entropy; '{options.Loss.Name}' is not supported with --grow");
                return GrowTraining.Run(dev, config, options, growth, train, evaluation, folder, parse.GetValue(resume));
            }
            using var classifier = new Classifier<float>(dev, config);
            using var trainer = new Trainer(dev, classifier, options, train, evaluation, communicator);
            if (parse.GetValue(resume) is string from)
            {
                trainer.Resume(from, parse.GetValue(allowOptionChange));
                if (trainer.CompletedEpochs >= options.Epochs)
                    throw InputException.Option("--resume", $"{from} has already trained {trainer.CompletedEpochs} of {options.Epochs} epochs: nothing to do " +
                        "(to train longer, give a larger --epochs, with --allow-option-change when the schedule depends on the run's length)");
            }
            Console.WriteLine(heldOut is null
                ? $"{config.Model}: {classifier.ParameterCount:N0} parameters, {train} / {test.Count} test images, device {dev.Id}"
                : $"{config.Model}: {classifier.ParameterCount:N0} parameters, {train} / {heldOut.Count} held out for the epochs / {test.Count} test images read once at the end, device {dev.Id}");
            if (communicator.Ranks > 1)
                Console.WriteLine($"data-parallel over {communicator.Ranks} ranks ({communicator.Description}); global batch {options.Batch}, up to {(options.Batch + communicator.Ranks - 1) / communicator.Ranks} per rank");
            Console.WriteLine($"run folder {folder.Path}");
            var observer = new ConsoleTrainingObserver(options.Epochs, heldOut is null ? "test" : "holdout");
            var settings = new { config, options, holdout = heldOut?.Count ?? 0 };
            Autodiff.Evaluation.EvaluationResult? finalTest = null;
            Dictionary<string, object> FinalTest() => finalTest is null
                ? new() { ["per_epoch_evaluation"] = "holdout" }
                : new() { ["per_epoch_evaluation"] = "holdout", ["final_test_accuracy"] = finalTest.Accuracy, ["final_test_loss"] = finalTest.Loss };
            bool root = communicator.Rank == 0; // only rank 0 writes files; the others print nothing (DataParallelRun)
            try
            {
                ITrainingObserver observers = root
                    ? new CompositeObserver(observer, new MetricsObserver(folder, trainer, classifier, dev.Id, settings, heldOut is null ? null : FinalTest))
                    : new CompositeObserver();
                int? stop = parse.GetValue(stopAfter);
                trainer.Run(observers, root ? folder.Checkpoint : null, stop is int last ? epoch => epoch >= last : null);
            }
            catch (TrainingDivergedException e)
            {
                Console.Error.WriteLine($"opteq: error: {e.Message}");
                return CliErrors.Diverged;
            }
            TrainingReport.PrintSummary(trainer.History, classifier, config, heldOut is null ? "test" : "holdout");
            if (heldOut is not null)
            {
                var final = trainer.Evaluate(test);
                finalTest = final;
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"test set, read once with the final model: accuracy {final.Accuracy:P2}, loss {final.Loss:F4} ({test.Count} images)"));
                if (root && trainer.History.Count > 0) folder.WriteMetrics(classifier.Config.Model.Name, classifier.ParameterCount, dev.Id, trainer.History, settings, FinalTest());
            }
            if (communicator.Ranks > 1)
                Console.WriteLine($"allreduce: {1000 * trainer.AllreduceSecondsPerStep:F3} ms per step over {communicator.Ranks} ranks (gradients of {classifier.ParameterCount:N0} parameters)");
            if (root) TrainingReport.SavePlots(folder, trainer, heldOut is null ? "test" : "holdout");
            Console.WriteLine($"\ncheckpoint {folder.Checkpoint}\nbest       {Trainer.BestCheckpointPath(folder.Checkpoint)} (epoch {trainer.BestEpoch})\nevaluate: opteq eval --checkpoint {folder.Checkpoint}\ninspect:  opteq solve --checkpoint {folder.Checkpoint} --index 0");
            return 0;
        }
    }

    private static NormKind ParseNorm(string text) => text.Trim().ToLowerInvariant() switch
    {
        "frobenius" => NormKind.Frobenius,
        "spectral" => NormKind.Spectral,
        _ => throw new ArgumentException($"unknown norm '{text}'; valid: frobenius, spectral"),
    };

    /// <summary>Writes metrics after every epoch, so an interrupted run keeps what it measured.</summary>
    private sealed class MetricsObserver(RunFolder folder, Trainer trainer, Classifier<float> classifier, string device, object settings,
        Func<Dictionary<string, object>>? holdout) : ITrainingObserver
    {
        public void EpochFinished(EpochMetrics metrics)
        {
            var extra = trainer.Ranks == 1
                ? new Dictionary<string, object> { ["ranks"] = 1 }
                : new Dictionary<string, object> { ["ranks"] = trainer.Ranks, ["allreduce_ms_per_step"] = Math.Round(1000 * trainer.AllreduceSecondsPerStep, 4) };
            foreach (var (key, value) in holdout?.Invoke() ?? []) extra[key] = value;
            folder.WriteMetrics(classifier.Config.Model.Name, classifier.ParameterCount, device, trainer.History, settings, extra);
        }
    }

    private sealed class CompositeObserver(params ITrainingObserver[] observers) : ITrainingObserver
    {
        public void EpochStarted(int epoch, int batches) { foreach (var o in observers) o.EpochStarted(epoch, batches); }
        public void BatchFinished(in BatchProgress progress) { foreach (var o in observers) o.BatchFinished(progress); }
        public void EpochFinished(EpochMetrics metrics) { foreach (var o in observers) o.EpochFinished(metrics); }
    }
}
