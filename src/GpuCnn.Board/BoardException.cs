namespace GpuCnn.Board;

/// <summary>The board could not start (its address is taken or refused).</summary>
public sealed class BoardException(string message, Exception? inner = null) : Exception(message, inner);
