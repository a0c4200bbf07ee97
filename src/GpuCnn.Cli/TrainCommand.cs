using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Distributed;
using GpuCnn.Mpi;
using GpuCnn.Persistence;
using GpuCnn.Runs;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn train`: parse, then one <see cref="TrainingSession"/> call (start or resume).</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new Hyperparameters();
        var device = CommonOptions.Device();
        var model = CommonOptions.Model();
        var shared = new TrainingOptionSet(defaults);
        var seed = CommonOptions.Int("--seed", "Seed for initialisation, shuffling and dropout.", defaults.Seed, int.MinValue, int.MaxValue, accepted: "a whole number");
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var runDir = new Option<string?>("--run-dir") { Description = "Folder for this run's metrics, plots, checkpoints and model (default runs/<time>-<model>)." };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue the run in this folder from its last complete checkpoint; with --epochs above the run's, train it further.",
        };
        var imageSize = CommonOptions.ImageSize();
        var channels = CommonOptions.Channels();
        var architecture = new Option<string?>("--architecture")
        {
            Description = "Train a model of your own: a JSON architecture (name, input_shape, layers with their configs), as Sequential.Architecture() writes it. Replaces --model.",
        };
        var config = new Option<string?>("--config")
        {
            Description = "Start from a run's settings.json or a recipe file (recipes/): its model, hyperparameters and data; options given beside it override it.",
        };
        var initFrom = new Option<string?>("--init-from")
        {
            Description = "Fine-tune: start from a saved model's weights (a .gpucnn file or a run folder), layer by layer where names and shapes match; " +
                          "the last dense layer starts afresh when the classes differ. The optimizer starts fresh.",
        };
        var freeze = new Option<string?>("--freeze")
        {
            Description = "Keep the layers up to and including this one (named as `gpucnn summary` prints them) fixed: no updates, no optimizer state, " +
                          "batch norm and dropout there as at inference. Meant for --init-from.",
        };
        var tensorBoard = CommonOptions.TensorBoard("the run folder");
        var skipBad = new Option<bool>("--skip-bad-images") { Description = "With a folder of pictures: skip (and list) pictures that cannot be decoded instead of stopping." };

        var command = new Command("train", "Train a model on Fashion-MNIST, or on a folder of your own pictures, and report test accuracy.")
        {
            device, model, seed, dataDir, cacheDir, runDir, resume, imageSize, channels, skipBad, architecture, config, initFrom, freeze, tensorBoard,
        };
        foreach (var option in shared.All) command.Options.Add(option);
        command.Validators.Add(r =>
        {
            if (r.GetResult(resume) is not null && r.GetResult(runDir) is not null)
                r.AddError("--resume continues the run in its own folder: do not pass --run-dir with it.");
            if (r.GetResult(resume) is not null && r.GetResult(config) is not null)
                r.AddError("--resume continues the run with its own settings: do not pass --config with it.");
            if (r.GetResult(resume) is not null && r.GetResult(architecture) is not null)
                r.AddError("--resume continues the run with its own architecture: do not pass --architecture with it.");
            if (r.GetResult(resume) is not null && r.GetResult(initFrom) is not null)
                r.AddError("--resume continues the run from its own checkpoint: do not pass --init-from with it.");
            if (r.GetValue(resume) is { } from && !File.Exists(Path.Combine(from, RunFiles.Checkpoint)))
                r.AddError($"--resume {from}: no {RunFiles.Checkpoint} there to resume from.");
            if (r.GetValue(initFrom) is { } source && !File.Exists(source) && !Directory.Exists(source))
                r.AddError($"--init-from {source}: no model file or run folder there.");
        });
        command.SetAction(parse =>
        {
            // Under mpiexec -n N (N > 1) every rank joins the job; rank 0 alone prints and writes.
            DataParallel? parallel = null;
            int code = CliErrors.Run(() =>
            {
                parallel = MpiSession.Join() is { } mpi ? new DataParallel(mpi) : null;
                var output = parallel?.IsRoot ?? true ? Console.Out : TextWriter.Null;
                var session = new TrainingSession(output, liveProgress: parallel is null && !Console.IsOutputRedirected, parallel)
                {
                    TensorBoardDirectory = parse.GetValue(tensorBoard),
                };
                if (parse.GetValue(resume) is { } from) Resume(parse, session, from);
                else
                {
                    var settings = parse.GetValue(config) is { } file ? SettingsSchema.ReadDocument(file) : ("seed", defaults, null, null);
                    var hyperparameters = shared.Read(parse, settings.Hyperparameters);
                    if (TrainingOptionSet.Given(parse, seed)) hyperparameters = hyperparameters with { Seed = parse.GetValue(seed) };
                    if (TrainingOptionSet.Given(parse, freeze)) hyperparameters = hyperparameters with { Freeze = parse.GetValue(freeze) };
                    var run = Run(parse, settings.Model, settings.InitFrom);
                    var data = Data(parse, settings.Data ?? new DataSpec());
                    if (hyperparameters.Freeze is { } layer) CheckFreeze(run, data, layer);
                    if (hyperparameters.Freeze is not null && run.InitFrom is null)
                        output.WriteLine("note: --freeze without --init-from keeps freshly initialised layers fixed (a random-features baseline).");
                    session.Start(run, hyperparameters, data);
                }
                return 0;
            });
            // A failed rank ends the job, rather than leave the others waiting in a collective.
            if (code != 0) parallel?.Abort(code);
            parallel?.Dispose();
            return code;
        });
        return command;

        RunSpec Run(ParseResult parse, string baseline, string? baselineInitFrom) => new()
        {
            Model = TrainingOptionSet.Given(parse, model) ? parse.GetValue(model)! : baseline,
            InitFrom = TrainingOptionSet.Given(parse, initFrom) ? CommonOptions.FullPath(parse.GetValue(initFrom)) : baselineInitFrom,
            Architecture = parse.GetValue(architecture) is { } file ? RunSpec.ReadArchitecture(file) : null,
            Device = CommonOptions.ParseDevice(parse.GetValue(device)!),
            Folder = parse.GetValue(runDir),
            Command = CommonOptions.CommandLine(),
        };

        // The data the command line names, over a baseline (a settings file's, else the defaults).
        DataSpec Data(ParseResult parse, DataSpec baseline)
        {
            T Pick<T>(Option<T> option, T fallback) => TrainingOptionSet.Given(parse, option) ? parse.GetValue(option)! : fallback;
            var size = TrainingOptionSet.Given(parse, imageSize) ? CommonOptions.ParseImageSize(parse.GetValue(imageSize)!)!.Value : (baseline.ImageHeight, baseline.ImageWidth);
            return new DataSpec
            {
                DataDir = CommonOptions.FullPath(Pick(dataDir, baseline.DataDir)),
                CacheDir = CommonOptions.FullPath(Pick(cacheDir, baseline.CacheDir)),
                TrainLimit = shared.TrainLimit(parse, baseline.TrainLimit),
                ImageHeight = size.Item1,
                ImageWidth = size.Item2,
                Channels = Pick(channels, baseline.Channels),
                SkipBadImages = Pick(skipBad, baseline.SkipBadImages),
            };
        }

        // --freeze names a layer of the model: checked before any data or device, as one line naming the option and the layers.
        // A model that cannot be planned for the data is left to the session, which says why.
        static void CheckFreeze(RunSpec run, DataSpec data, string layer)
        {
            using var network = run.Network([data.ImageHeight, data.ImageWidth, data.Channels], 10);
            try
            {
                network.Plan(1);
            }
            catch (ArgumentException)
            {
                return;
            }
            try
            {
                network.Freeze(layer);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--freeze {layer}: {e.Message}");
            }
        }

        // A resumed run trains as it was started: an option that says otherwise is refused, except
        // more --epochs (train further), --device, and where the data now is.
        void Resume(ParseResult parse, TrainingSession session, string from)
        {
            var run = Checkpoint.Load(Path.Combine(from, RunFiles.Checkpoint)).Header;
            var data = run.Run.Data ?? new DataSpec();
            var requested = Data(parse, data);
            var contradictions = shared.Contradictions(parse, run).ToList();
            void Check(Option option, object? given, object? stored)
            {
                if (TrainingOptionSet.Given(parse, option) && !Equals(given, stored)) contradictions.Add(TrainingOptionSet.Contradiction(option.Name, stored));
            }
            Check(model, parse.GetValue(model), run.Model);
            Check(seed, parse.GetValue(seed), run.Hyperparameters.Seed);
            Check(imageSize, parse.GetValue(imageSize), $"{data.ImageHeight}x{data.ImageWidth}");
            Check(channels, requested.Channels, data.Channels);
            Check(skipBad, requested.SkipBadImages, data.SkipBadImages);
            Check(freeze, parse.GetValue(freeze), run.Hyperparameters.Freeze);
            if (shared.GivenEpochs(parse) is { } asked && asked < run.Hyperparameters.Epochs)
                contradictions.Add($"--epochs (the run has {run.Hyperparameters.Epochs}; give more to train it further)");
            if (contradictions.Count > 0)
                throw new ArgumentException($"--resume {from} trains as the run was started; these options differ from it: {string.Join(", ", contradictions)}.");
            session.Resume(new ResumeRequest(from)
            {
                Epochs = shared.GivenEpochs(parse),
                DataDir = requested.DataDir,
                CacheDir = requested.CacheDir,
                Device = CommonOptions.ParseDevice(parse.GetValue(device)!),
                Command = CommonOptions.CommandLine(),
            });
        }
    }
}
