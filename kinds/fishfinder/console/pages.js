// The fish-finder's console pages (the contract: CONSOLE_DESIGN.md, "The page-module contract").
// Each page is its own module; they share their texts.

import grounds from './grounds.js';
import sos from './sos.js';
import strings from './strings.js';
import vessels from './vessels.js';

export default [sos, vessels, grounds].map((page) => ({...page, strings}));
