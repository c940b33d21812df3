/** CLI subcommands that drive a running app (or Twilio directly): call, status, hangup, list. */
export const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {}
