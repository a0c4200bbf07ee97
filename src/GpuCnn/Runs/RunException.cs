namespace GpuCnn.Runs;

/// <summary>A run cannot start or continue as asked (its folder is taken, in use, or holds another run); the message says why in one line.</summary>
public sealed class RunException(string message) : Exception(message);
