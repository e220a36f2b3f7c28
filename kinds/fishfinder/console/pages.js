// The fish-finder's console pages (the contract: CONSOLE_DESIGN.md, "The page-module contract").
// Each page is its own module; they share their texts.
// `{{build}}` is the console's build hash, written in when served: the modules are cached for good.

import grounds from './grounds.js?v={{build}}';
import sos from './sos.js?v={{build}}';
import strings from './strings.js?v={{build}}';
import vessels from './vessels.js?v={{build}}';

export default [sos, vessels, grounds].map((page) => ({...page, strings}));
