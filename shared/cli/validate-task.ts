// Local validation of a task file with the API's own schema and error mapping, so a bad file fails
// before any request, naming the field in the API's words. Loaded only by `tasks create`: the
// schema brings zod and the ReDoS checker, which the other commands do not need to start up.
import { TaskInput } from '../tasks/schema.ts';
import { parseInput } from '../tasks/issue.ts';

/** Throws the FerryError the API would answer with; returns the parsed input (defaults applied). */
export function validateTask(body: Record<string, unknown>): TaskInput {
  return parseInput(TaskInput, body);
}
