/**
 * Reads a stored Redis revocation recipe: `{ name, rules }` (docs/connectors.md). Revocation
 * needs only the name, and reads nothing else, so a rule check tightened in a later version can
 * never block removing an old credential.
 */
import { StintError } from '../../core/errors.js';
import type { RevocationRecipe } from '../../core/grant.js';
import { parseRules } from './config.js';
import { grantIdFromName } from './names.js';

/** The ACL user a recipe names. Throws `internal` when the recipe is not a Redis recipe of Stint's. */
export function recipeUser(recipe: RevocationRecipe): string {
  const name = recipe.data.name;
  if (recipe.connector !== 'redis' || typeof name !== 'string' || grantIdFromName(name) === undefined) {
    throw new StintError('internal', `recipe for target ${recipe.target} is not a Redis recipe made by Stint`);
  }
  return name;
}

/** The ACL rules a recipe confers, checked again before they reach `ACL SETUSER`. */
export function recipeRules(recipe: RevocationRecipe): string[] {
  try {
    return parseRules(recipe.data.rules, `recipe for target ${recipe.target}: rules`);
  } catch (e) {
    throw new StintError('internal', e instanceof StintError ? e.detail : 'recipe rules are invalid');
  }
}
